-- $1 payment id: what a payment provider adapter needs to open, show, check or refund the
-- payment's charge (the booking's own amount and currency, never the browser's).
SELECT p.id, p.amount, p.currency::text AS currency, p.status, p.gateway, p.method,
       p.provider_order_id, p.provider_pay_url, p.idempotency_key, p.gateway_transaction_id,
       p.expires_at, b.id AS booking_id, b.reference, b.email, b.status AS booking_status,
       b.visitor_id
  FROM payments p
  JOIN bookings b ON b.id = p.booking_id
 WHERE p.id = $1
