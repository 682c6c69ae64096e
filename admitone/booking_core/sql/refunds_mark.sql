-- $1 refund id, $2 new status (PROCESSED or FAILED): only a PENDING refund moves, so two senders
-- that raced record the outcome once. Returns the refund's booking when it moved.
UPDATE refunds
   SET status = $2, processed_at = clock_timestamp()
 WHERE id = $1 AND status = 'PENDING'
RETURNING booking_id, payment_id
