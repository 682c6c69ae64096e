-- BookingRepository.lock_payment: $1 booking id: the booking's payment, held first (lock order:
-- payments → bookings → show_seats by seat_id → seat_locks), which serialises cancellations.
SELECT id, amount, status
  FROM payments
 WHERE booking_id = $1
   FOR UPDATE
