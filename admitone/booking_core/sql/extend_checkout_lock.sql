-- CheckoutRepository.extend_checkout_lock: $1 lock id, $2 new end, $3 now, $4 show id, $5 the
-- lock's seat ids: the lock and its seats stay held until $2 (over the payment window). A
-- statement apart from insert_checkout.sql: the foreign keys of the rows inserted there check
-- these rows, which must not be changed by the same statement.
WITH seats AS (
    UPDATE show_seats
       SET locked_until = $2, updated_at = $3
     WHERE show_id = $4 AND seat_id = ANY ($5::text[]) AND lock_id = $1
)
UPDATE seat_locks SET expires_at = $2, updated_at = $3 WHERE id = $1
