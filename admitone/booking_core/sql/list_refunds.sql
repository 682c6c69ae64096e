-- $1 status (PENDING, PROCESSED or FAILED), $2 limit: refunds for the operator, newest first,
-- with how often they were tried and the provider's last answer.
SELECT r.id, r.payment_id, r.booking_id, r.amount, r.reason, r.status, r.attempts,
       r.last_error, r.provider_refund_id, r.created_at, r.processed_at,
       p.gateway, p.currency::text AS currency, b.reference
  FROM refunds r
  JOIN payments p ON p.id = r.payment_id
  JOIN bookings b ON b.id = r.booking_id
 WHERE r.status = $1
 ORDER BY r.created_at DESC
 LIMIT $2
