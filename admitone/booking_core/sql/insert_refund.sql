-- BookingRepository.insert_refund: $1 payment id, $2 booking id, $3 amount, $4 reason: a PENDING
-- refund (the caller holds the payment and has checked it has none); its id.
INSERT INTO refunds (payment_id, booking_id, amount, reason)
VALUES ($1, $2, $3, $4)
RETURNING id
