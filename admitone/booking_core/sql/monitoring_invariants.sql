-- MonitoringRepository.invariant_violations: how many rows break each invariant the README lists,
-- as a periodic check behind the constraints, trigger and sweeper that should keep them.
-- $1 grace seconds: a settlement or a sweep still under way is not a violation.
-- Bookings and payments are checked for shows from a day ago on (older ones no longer change),
-- so the cost follows the shows on sale, not the whole history.
--   double_bookings             seats of one show in two CONFIRMED (or REVIEW) bookings
--   confirmed_without_payment   CONFIRMED (or REVIEW) bookings without a SUCCESS payment
--   captured_without_outcome    SUCCESS payments whose booking is neither CONFIRMED nor REVIEW
--                               (held for fraud review, seats and money kept) and which have
--                               no refund: money taken for neither seats nor a refund
--   locks_past_expiry           ACTIVE locks more than the grace past their expiry (the
--                               sweeper is not running)
WITH recent AS (
    SELECT id FROM shows WHERE show_time > now() - interval '1 day'
), confirmed AS (
    SELECT b.id FROM bookings b WHERE b.status IN ('CONFIRMED', 'REVIEW') AND b.show_id IN (SELECT id FROM recent)
)
SELECT
    (SELECT count(*)
       FROM (SELECT 1
               FROM booking_seats bs
              WHERE bs.booking_id IN (SELECT id FROM confirmed)
              GROUP BY bs.show_id, bs.seat_id
             HAVING count(*) > 1) AS twice) AS double_bookings,
    (SELECT count(*)
       FROM confirmed c
      WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = c.id AND p.status = 'SUCCESS')
    ) AS confirmed_without_payment,
    (SELECT count(*)
       FROM payments p
       JOIN bookings b ON b.id = p.booking_id
      WHERE p.status = 'SUCCESS' AND b.status NOT IN ('CONFIRMED', 'REVIEW')
        AND b.show_id IN (SELECT id FROM recent)
        AND coalesce(p.completed_at, p.updated_at) < now() - make_interval(secs => $1)
        AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id)
    ) AS captured_without_outcome,
    (SELECT count(*)
       FROM seat_locks
      WHERE status = 'ACTIVE' AND expires_at < now() - make_interval(secs => $1)
    ) AS locks_past_expiry
