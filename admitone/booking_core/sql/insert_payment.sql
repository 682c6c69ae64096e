-- CheckoutRepository.insert_payment: $1 booking id, $2 amount, $3 currency, $4 method,
-- $5 end of the payment window, $6 the provider that takes it, $7 the checkout's
-- Idempotency-Key (carried to the provider): an INITIATED payment; its id.
INSERT INTO payments (booking_id, amount, currency, method, expires_at, gateway, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
