-- $1 show id, $2 booking id: the booking's seats, held third, in seat_id order. The seat ids
-- are read first (an array, not a join), so the seats are probed by their whole key: a join
-- let the planner scan every seat of the show to find a booking's few.
SELECT ss.seat_id, ss.status, ss.lock_id, ss.locked_until
  FROM show_seats ss
 WHERE ss.show_id = $1
   AND ss.seat_id = ANY (ARRAY(SELECT bs.seat_id FROM booking_seats bs WHERE bs.booking_id = $2))
 ORDER BY ss.seat_id
   FOR UPDATE
