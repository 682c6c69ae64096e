-- $1 lock id: the booking's seat lock, held last, with the database clock read once every row
-- of the settlement is held.
SELECT id, status, expires_at, clock_timestamp() AS now
  FROM seat_locks
 WHERE id = $1
   FOR UPDATE
