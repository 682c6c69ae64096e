-- $1 payment id, $2 outcome (SUCCESS or FAILED): the fan finished on the payment page. A paid
-- charge stays paid; a failed one may be tried again. No row when the charge is unknown or paid.
UPDATE sandbox_charges
   SET status = $2, completed_at = clock_timestamp()
 WHERE payment_id = $1 AND status <> 'SUCCESS'
RETURNING payment_id, transaction_id, amount, currency::text AS currency, status, return_url
