-- CheckoutRepository.checkout_seats: $1 lock id, $2 visitor id: the seats of the visitor's lock,
-- held in seat_id order until commit (lock order: show_seats, then seat_locks), with what
-- checkout needs to judge and price them. Another visitor's lock matches nothing, so it takes
-- no row lock.
SELECT ss.seat_id, ss.price, ss.status, ss.lock_id, ss.locked_until
  FROM show_seats ss
  JOIN seat_locks l ON l.show_id = ss.show_id AND ss.seat_id = ANY (l.seat_ids)
 WHERE l.id = $1 AND l.visitor_id = $2
 ORDER BY ss.seat_id
   FOR UPDATE OF ss
