-- $1 show id, $2 booking id: the booking's seats held in seat_id order (the one lock order:
-- payments → bookings → show_seats by seat_id → seat_locks), found by their whole key from
-- booking_seats rather than by scanning the show for the booking id.
SELECT seat_id
  FROM show_seats
 WHERE show_id = $1
   AND seat_id = ANY (ARRAY(SELECT bs.seat_id FROM booking_seats bs WHERE bs.booking_id = $2))
   AND booking_id = $2
 ORDER BY seat_id
   FOR UPDATE
