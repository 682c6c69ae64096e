-- CheckoutRepository.checkout_lock: $1 lock id, $2 visitor id: the visitor's lock, held after
-- its seats (lock order: show_seats, then seat_locks), with its show's currency and seat limit,
-- the booking made from it that is still PENDING or CONFIRMED (if any) and the database clock.
-- No row when the lock is unknown or another visitor's.
SELECT l.id, l.show_id, l.status, l.expires_at, l.seat_ids, clock_timestamp() AS now,
       sh.currency, sh.max_seats_per_visitor,
       (SELECT b.id FROM bookings b
         WHERE b.lock_id = l.id AND b.status IN ('PENDING', 'CONFIRMED')) AS live_booking
  FROM seat_locks l
  JOIN shows sh ON sh.id = l.show_id
 WHERE l.id = $1 AND l.visitor_id = $2
   FOR UPDATE OF l
