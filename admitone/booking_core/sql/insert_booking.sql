-- CheckoutRepository.insert_booking: $1 reference, $2 show id, $3 visitor id, $4 lock id,
-- $5 e-mail, $6 amount, $7 currency: a PENDING booking; its id.
INSERT INTO bookings (reference, show_id, visitor_id, lock_id, email, amount, currency)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
