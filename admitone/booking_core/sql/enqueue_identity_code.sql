-- OutboxWorker.send_identity_code: $1 payload (showId, email, code, validMinutes): the one-time
-- code that proves a fan's e-mail to a waiting room, e-mailed by the outbox.
INSERT INTO outbox (topic, payload) VALUES ('identity.code', $1::jsonb)
