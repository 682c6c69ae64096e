-- PaymentRepository.mark_lock: $1 lock id, $2 new status, $3 now: an ACTIVE lock ends
-- (CONVERTED, EXPIRED or RELEASED); true when it was still active.
UPDATE seat_locks
   SET status = $2, updated_at = $3
 WHERE id = $1 AND status = 'ACTIVE'
RETURNING true
