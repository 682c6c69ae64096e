-- add_outbox (of every repository): $1 topic, $2 payload (JSON text): a message the outbox
-- worker delivers once the transaction that wrote it commits.
INSERT INTO outbox (topic, payload) VALUES ($1, $2::jsonb)
