-- BookingRepository.cancel_booking: $1 booking id, $2 now.
UPDATE bookings
   SET status = 'CANCELLED', cancelled_at = $2, updated_at = $2
 WHERE id = $1
