-- $1 show id, $2 lock id, $3 now, $4 the lock's seat ids (seat_locks.seat_ids, probed by their
-- whole key): seats the lock still holds go back to AVAILABLE.
UPDATE show_seats
   SET status = 'AVAILABLE', holder = NULL, lock_id = NULL, locked_until = NULL,
       version = version + 1, updated_at = $3
 WHERE show_id = $1 AND seat_id = ANY ($4::text[]) AND lock_id = $2 AND status = 'LOCKED'
RETURNING seat_id
