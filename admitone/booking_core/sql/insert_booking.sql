-- CheckoutRepository.insert_booking: $1 reference, $2 show id, $3 visitor id, $4 lock id,
-- $5 e-mail, $6 amount, $7 currency, $8 e-mail key, $9 instrument key, $10 client network,
-- $11 risk score, $12 its reasons (JSON), $13 held for review once paid: a PENDING booking; its id.
INSERT INTO bookings (reference, show_id, visitor_id, lock_id, email, amount, currency,
                      email_key, instrument_key, network, risk_score, risk_reasons, review)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, ''), $11, $12::jsonb, $13)
RETURNING id
