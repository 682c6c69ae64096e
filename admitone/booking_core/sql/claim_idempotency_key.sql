-- CheckoutRepository.claim_idempotency_key: $1 visitor id, $2 Idempotency-Key, $3 request hash.
-- true for the first request with this key; no row when the key was used before (the replay
-- then waits for the first request's transaction on the row lock this insert takes).
INSERT INTO idempotency_keys (visitor_id, key, request_hash)
VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING
RETURNING true
