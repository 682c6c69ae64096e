-- $1 payment id, $2 booking id, $3 amount, $4 reason: a PENDING refund, at most one per payment
-- (refunds_one_per_payment); NULL when the payment already has one.
INSERT INTO refunds (payment_id, booking_id, amount, reason)
VALUES ($1, $2, $3, $4)
ON CONFLICT (payment_id) DO NOTHING
RETURNING id
