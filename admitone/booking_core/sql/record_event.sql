-- PaymentRepository.record_event: $1 webhook event id, $2 payment id, $3 reported status,
-- $4 the provider that sent it: true for an event not seen before. A duplicate delivered
-- meanwhile waits on this row's lock for the first delivery's transaction, then inserts nothing.
INSERT INTO webhook_events (event_id, payment_id, status, provider)
VALUES ($1, $2, $3, $4)
ON CONFLICT (event_id) DO NOTHING
RETURNING true
