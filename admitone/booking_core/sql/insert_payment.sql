-- CheckoutRepository.insert_payment: $1 booking id, $2 amount, $3 currency, $4 method,
-- $5 end of the payment window: an INITIATED payment; its id.
INSERT INTO payments (booking_id, amount, currency, method, expires_at)
VALUES ($1, $2, $3, $4, $5)
RETURNING id
