-- CheckoutRepository.checkout_facts, under buyer_locks.sql: $1 show id, $2 e-mail key,
-- $3 instrument key (NULL: none), $4 visitor id, $5 this checkout's instrument for the fraud
-- score (its key, else 'm:' and the payment method), $6 now.
-- by_email / by_instrument: the seats of the show's live bookings of that e-mail and of that
-- instrument. Live: CONFIRMED or REVIEW (seats held), or PENDING with its lock still holding
-- the seats (a checkout under way; one whose lock expired can no longer confirm).
-- The rest are the facts of booking_core/fraud.py.
-- The buyer's bookings are found through (show_id, email_key) and (show_id, instrument_key),
-- one branch each (an OR of the two let the planner scan the show's bookings instead); a NULL
-- instrument key matches no row.
WITH mine AS (
    SELECT b.id, b.email_key, b.instrument_key, b.status, b.lock_id
      FROM bookings b
     WHERE b.show_id = $1 AND b.email_key = $2
    UNION
    SELECT b.id, b.email_key, b.instrument_key, b.status, b.lock_id
      FROM bookings b
     WHERE b.show_id = $1 AND b.instrument_key = $3::text
), live AS (
    -- The lock of a PENDING one is looked up by its key (a subquery under OR stays one, a
    -- join let the planner read every lock to hash them).
    SELECT m.id, m.email_key, m.instrument_key
      FROM mine m
     WHERE m.status IN ('CONFIRMED', 'REVIEW')
        OR (m.status = 'PENDING' AND EXISTS (
                SELECT 1 FROM seat_locks l
                 WHERE l.id = m.lock_id AND l.status = 'ACTIVE'
                   AND l.expires_at > clock_timestamp()))
)
SELECT
    (SELECT count(*) FROM booking_seats bs JOIN live ON live.id = bs.booking_id
      WHERE live.email_key = $2) AS by_email,
    (SELECT count(*) FROM booking_seats bs JOIN live ON live.id = bs.booking_id
      WHERE $3::text IS NOT NULL AND live.instrument_key = $3) AS by_instrument,
    (SELECT count(*) FROM bookings
      WHERE email_key = $2 AND show_id = $1 AND created_at > $6::timestamptz - interval '1 hour')
        AS show_bookings_last_hour,
    (SELECT count(DISTINCT k) FROM (
        SELECT coalesce(b.instrument_key, 'm:' || p.method) AS k
          FROM bookings b JOIN payments p ON p.booking_id = b.id
         WHERE b.email_key = $2 AND b.created_at > $6::timestamptz - interval '1 day'
        UNION ALL SELECT $5::text) AS used) AS instruments_last_day,
    (SELECT count(*) FROM (
        SELECT id FROM bookings
         WHERE show_id = $1 AND email_key = $2 AND created_at > $6::timestamptz - interval '10 minutes'
        UNION
        SELECT id FROM bookings
         WHERE show_id = $1 AND visitor_id = $4 AND created_at > $6::timestamptz - interval '10 minutes'
     ) AS attempts) + 1 AS attempts_last_10_minutes,
    (SELECT $6::timestamptz - min(created_at) FROM bookings WHERE email_key = $2) AS identity_age
