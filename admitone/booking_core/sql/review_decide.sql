-- ReviewService.decide: $1 booking id, $2 now, $3 the new status (CONFIRMED or CANCELLED),
-- $4 the operator: a REVIEW booking decided; true when it moved.
UPDATE bookings
   SET status = $3, updated_at = $2, reviewed_at = $2, reviewed_by = $4,
       confirmed_at = CASE WHEN $3 = 'CONFIRMED' THEN $2 ELSE confirmed_at END,
       cancelled_at = CASE WHEN $3 = 'CANCELLED' THEN $2 ELSE cancelled_at END
 WHERE id = $1 AND status = 'REVIEW'
RETURNING true
