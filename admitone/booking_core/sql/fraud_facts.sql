-- CheckoutRepository.fraud_facts (booking_core/fraud.py): $1 show id, $2 e-mail key, $3 visitor
-- id, $4 this checkout's instrument (its key, else 'm:' and the payment method), $5 now.
SELECT
    (SELECT count(*) FROM bookings
      WHERE email_key = $2 AND show_id = $1 AND created_at > $5::timestamptz - interval '1 hour')
        AS show_bookings_last_hour,
    (SELECT count(DISTINCT k) FROM (
        SELECT coalesce(b.instrument_key, 'm:' || p.method) AS k
          FROM bookings b JOIN payments p ON p.booking_id = b.id
         WHERE b.email_key = $2 AND b.created_at > $5::timestamptz - interval '1 day'
        UNION ALL SELECT $4::text) AS used) AS instruments_last_day,
    (SELECT count(*) FROM bookings
      WHERE show_id = $1 AND (email_key = $2 OR visitor_id = $3)
        AND created_at > $5::timestamptz - interval '10 minutes') + 1 AS attempts_last_10_minutes,
    (SELECT $5::timestamptz - min(created_at) FROM bookings WHERE email_key = $2) AS identity_age
