-- CheckoutRepository.insert_checkout: the PENDING booking, its seats, its INITIATED payment, the
-- audit row and the answer a replay of the Idempotency-Key returns, in one statement.
-- $1 booking id, $2 reference, $3 show id, $4 visitor id, $5 lock id, $6 e-mail, $7 amount,
-- $8 currency, $9 e-mail key, $10 instrument key, $11 client network, $12 risk score, $13 its
-- reasons (JSON), $14 held for review once paid, $15 seat ids, $16 their prices, $17 payment
-- id, $18 method, $19 end of the payment window, $20 the provider that takes it, $21 the
-- Idempotency-Key (carried to the provider), $22 audit data (JSON), $23 answer status code,
-- $24 answer body (JSON text).
WITH booking AS (
    INSERT INTO bookings (id, reference, show_id, visitor_id, lock_id, email, amount, currency,
                          email_key, instrument_key, network, risk_score, risk_reasons, review)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, ''), $12, $13::jsonb, $14)
    RETURNING id
), seats AS (
    INSERT INTO booking_seats (booking_id, show_id, seat_id, price)
    SELECT booking.id, $3, s.seat_id, s.price
      FROM booking, unnest($15::text[], $16::numeric[]) AS s (seat_id, price)
), payment AS (
    INSERT INTO payments (id, booking_id, amount, currency, method, expires_at, gateway,
                          idempotency_key)
    SELECT $17, booking.id, $7, $8, $18, $19, $20, $21 FROM booking
), audit AS (
    INSERT INTO audit_log (actor, entity, entity_id, action, data)
    VALUES ($4, 'booking', $1::text, 'PENDING', $22::jsonb)
)
UPDATE idempotency_keys
   SET status_code = $23, response = $24::jsonb
 WHERE visitor_id = $4 AND key = $21
