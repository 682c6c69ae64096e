-- $1 lock id: the booking's seat lock, held last, with the database clock read once every row
-- of the settlement is held. seat_ids: every seat the lock was granted, so the only seats that
-- can carry its lock id; the settlement's writes reach show_seats by those whole keys.
SELECT id, status, expires_at, seat_ids, clock_timestamp() AS now
  FROM seat_locks
 WHERE id = $1
   FOR UPDATE
