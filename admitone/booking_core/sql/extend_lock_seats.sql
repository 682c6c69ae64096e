-- CheckoutRepository.extend_lock_seats: $1 lock id, $2 new end, $3 now, $4 show id, $5 seat ids:
-- the lock's seats stay held until $2 (over the payment window).
UPDATE show_seats
   SET locked_until = $2, updated_at = $3
 WHERE show_id = $4 AND seat_id = ANY ($5::text[]) AND lock_id = $1
