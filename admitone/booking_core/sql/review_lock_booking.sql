-- ReviewService.decide: $1 booking id: the booking held until commit (its payment is held
-- first: payments → bookings → show_seats by seat_id → seat_locks), with the database clock.
SELECT b.id, b.reference, b.show_id, b.visitor_id, b.status, b.amount,
       trim(b.currency) AS currency, clock_timestamp() AS now
  FROM bookings b
 WHERE b.id = $1
   FOR UPDATE
