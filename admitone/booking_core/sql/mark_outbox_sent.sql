-- BookingRepository.mark_outbox_sent: $1 outbox id: delivered, after one more attempt.
UPDATE outbox
   SET sent_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL
 WHERE id = $1
