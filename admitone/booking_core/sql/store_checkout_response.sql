-- CheckoutRepository.store_response: $1 visitor id, $2 Idempotency-Key, $3 status code,
-- $4 response body (JSON text): the answer a replay of this key returns.
UPDATE idempotency_keys
   SET status_code = $3, response = $4::jsonb
 WHERE visitor_id = $1 AND key = $2
