-- PaymentRepository.fail_booking: $1 booking id, $2 now: PENDING → FAILED; true when it moved.
UPDATE bookings
   SET status = 'FAILED', updated_at = $2
 WHERE id = $1 AND status = 'PENDING'
RETURNING true
