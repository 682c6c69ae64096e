-- $1 seconds a payment may stay INITIATED before the gateway is asked, $2 limit: payments to
-- reconcile, oldest first, with their gateway and whether their window has already closed.
SELECT id, gateway, expires_at <= clock_timestamp() AS expired
  FROM payments
 WHERE status = 'INITIATED'
   AND (initiated_at <= clock_timestamp() - make_interval(secs => $1)
        OR expires_at <= clock_timestamp())
 ORDER BY initiated_at
 LIMIT $2
