-- $1 show id, $2 booking id, $3 now: a cancelled booking's seats are AVAILABLE again (found by
-- their whole key from booking_seats, not by scanning the show for the booking id).
UPDATE show_seats
   SET status = 'AVAILABLE', holder = NULL, booking_id = NULL, lock_id = NULL, locked_until = NULL,
       version = version + 1, updated_at = $3
 WHERE show_id = $1
   AND seat_id = ANY (ARRAY(SELECT bs.seat_id FROM booking_seats bs WHERE bs.booking_id = $2))
   AND booking_id = $2 AND status = 'BOOKED'
RETURNING seat_id
