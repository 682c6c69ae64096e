-- CheckoutRepository.buyer_seats: $1 show id, $2 e-mail key, $3 instrument key (NULL: none):
-- the seats of the show's live bookings of that e-mail, and of that instrument. Live: CONFIRMED
-- or REVIEW (seats held), or PENDING with its lock still holding the seats (a checkout under
-- way; one whose lock expired can no longer confirm).
WITH live AS (
    SELECT b.id, b.email_key, b.instrument_key
      FROM bookings b
      LEFT JOIN seat_locks l ON l.id = b.lock_id
     WHERE b.show_id = $1 AND (b.email_key = $2 OR ($3::text IS NOT NULL AND b.instrument_key = $3))
       AND (b.status IN ('CONFIRMED', 'REVIEW')
            OR (b.status = 'PENDING' AND l.status = 'ACTIVE' AND l.expires_at > clock_timestamp()))
)
SELECT
    (SELECT count(*) FROM booking_seats bs JOIN live ON live.id = bs.booking_id
      WHERE live.email_key = $2) AS by_email,
    (SELECT count(*) FROM booking_seats bs JOIN live ON live.id = bs.booking_id
      WHERE $3::text IS NOT NULL AND live.instrument_key = $3) AS by_instrument
