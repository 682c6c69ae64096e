-- CheckoutRepository.extend_checkout_lock: $1 lock id, $2 new end, $3 now.
UPDATE seat_locks SET expires_at = $2, updated_at = $3 WHERE id = $1
