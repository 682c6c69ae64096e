-- review.hold_for_review: $1 booking id, $2 now: a paid PENDING booking held for fraud review.
UPDATE bookings
   SET status = 'REVIEW', updated_at = $2
 WHERE id = $1 AND status = 'PENDING'
