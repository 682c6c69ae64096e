-- CheckoutRepository.lock_checkout_lock: $1 lock id: the lock, held after its seats (lock
-- order: show_seats, then seat_locks), with its show's currency and seat limit and the
-- database clock.
SELECT l.id, l.show_id, l.status, l.expires_at, l.seat_ids, clock_timestamp() AS now,
       sh.currency, sh.max_seats_per_visitor
  FROM seat_locks l
  JOIN shows sh ON sh.id = l.show_id
 WHERE l.id = $1
   FOR UPDATE OF l
