-- BookingRepository.mark_payment_refunded: $1 payment id, $2 now: SUCCESS → REFUNDED; true when
-- the payment moved.
UPDATE payments
   SET status = 'REFUNDED', updated_at = $2
 WHERE id = $1 AND status = 'SUCCESS'
RETURNING true
