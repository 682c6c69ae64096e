-- $1 booking id: the booking held until commit (lock order: its payment is held first, which
-- serialises cancellations), with its show's time for the policy and the database clock.
SELECT b.id, b.reference, b.show_id, b.visitor_id, b.status, b.amount, trim(b.currency) AS currency,
       sh.show_time, clock_timestamp() AS now
  FROM bookings b
  JOIN shows sh ON sh.id = b.show_id
 WHERE b.id = $1
   FOR UPDATE OF b
