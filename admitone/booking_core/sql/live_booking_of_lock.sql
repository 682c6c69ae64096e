-- CheckoutRepository.live_booking_of_lock: $1 lock id: the booking made from this lock that is
-- still PENDING or CONFIRMED, if any.
SELECT id
  FROM bookings
 WHERE lock_id = $1 AND status IN ('PENDING', 'CONFIRMED')
