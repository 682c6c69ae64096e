-- $1 outbox id, $2 error text, $3 seconds to wait: one more failed attempt, retried later.
UPDATE outbox
   SET attempts = attempts + 1, last_error = $2,
       next_try_at = clock_timestamp() + make_interval(secs => $3)
 WHERE id = $1
RETURNING attempts, next_try_at
