-- $1 show id, $2 lock id, $3 booking id, $4 now, $5 the lock's seat ids (seat_locks.seat_ids,
-- probed by their whole key): the lock's seats become BOOKED for the booking
-- (the holder stays the visitor; the lock columns are cleared, as show_seats_state_whole wants).
UPDATE show_seats
   SET status = 'BOOKED', booking_id = $3, lock_id = NULL, locked_until = NULL,
       version = version + 1, updated_at = $4
 WHERE show_id = $1 AND seat_id = ANY ($5::text[]) AND lock_id = $2 AND status = 'LOCKED'
RETURNING seat_id
