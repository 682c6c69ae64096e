-- PaymentRepository.confirm_booking: $1 booking id, $2 now.
UPDATE bookings
   SET status = 'CONFIRMED', confirmed_at = $2, updated_at = $2
 WHERE id = $1
