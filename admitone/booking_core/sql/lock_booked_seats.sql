-- $1 show id, $2 booking id: the booking's seats held in seat_id order (the one lock order:
-- payments → bookings → show_seats by seat_id → seat_locks).
SELECT seat_id
  FROM show_seats
 WHERE show_id = $1 AND booking_id = $2
 ORDER BY seat_id
   FOR UPDATE
