-- $1 payment id: the charge to refund, held so that refunds of one charge run one at a time,
-- with what was refunded so far.
SELECT c.status, c.amount,
       coalesce((SELECT sum(r.amount) FROM sandbox_refunds r WHERE r.payment_id = c.payment_id), 0)
           AS refunded_amount
  FROM sandbox_charges c
 WHERE c.payment_id = $1
   FOR UPDATE
