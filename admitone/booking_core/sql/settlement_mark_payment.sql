-- $1 payment id, $2 new status, $3 gateway transaction id (or NULL to keep), $4 now.
UPDATE payments
   SET status = $2, gateway_transaction_id = coalesce($3, gateway_transaction_id),
       completed_at = coalesce(completed_at, $4), updated_at = $4
 WHERE id = $1
