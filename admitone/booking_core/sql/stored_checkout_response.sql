-- CheckoutRepository.stored_response: $1 visitor id, $2 Idempotency-Key: the first request's
-- hash and answer.
SELECT request_hash, status_code, response::text AS response
  FROM idempotency_keys
 WHERE visitor_id = $1 AND key = $2
