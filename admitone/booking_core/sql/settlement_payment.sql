-- $1 payment id: the payment to settle, held first (lock order: payments, bookings, show_seats
-- by seat_id, seat_locks).
SELECT id, booking_id, amount, currency::text AS currency, status, expires_at, gateway_transaction_id
  FROM payments
 WHERE id = $1
   FOR UPDATE
