-- $1 batch size: unsent rows that are due, held until the worker's transaction ends; rows
-- another worker holds are skipped, not waited on.
SELECT id, topic, payload::text AS payload, attempts
  FROM outbox
 WHERE sent_at IS NULL AND next_try_at <= clock_timestamp()
 ORDER BY next_try_at, id
 LIMIT $1
   FOR UPDATE SKIP LOCKED
