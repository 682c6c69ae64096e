-- $1 payment id: a sandbox charge with how much of it has been refunded.
SELECT c.payment_id, c.transaction_id, c.amount, c.currency::text AS currency, c.method,
       c.return_url, c.status,
       coalesce((SELECT sum(r.amount) FROM sandbox_refunds r WHERE r.payment_id = c.payment_id), 0)
           AS refunded_amount
  FROM sandbox_charges c
 WHERE c.payment_id = $1
