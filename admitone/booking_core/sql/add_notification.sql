-- BookingRepository.add_notification: $1 outbox id, $2 channel (smtp or recorded), $3 recipient,
-- $4 subject, $5 body: the message one outbox row sent, recorded once.
INSERT INTO notifications (outbox_id, channel, recipient, subject, body)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (outbox_id) DO NOTHING
