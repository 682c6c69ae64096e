-- ReviewService.reviews: $1 show id (NULL: every show), $2 at most this many, $3 one booking id
-- (NULL: any): bookings held for review, oldest first, with their show, seats, payment and the
-- reasons they were held.
SELECT b.id, b.reference, b.show_id, b.email, b.amount, trim(b.currency) AS currency,
       b.risk_score, b.risk_reasons::text AS risk_reasons, b.created_at, b.network,
       m.title, sh.show_time, p.method AS payment_method, p.status AS payment_status,
       (SELECT array_agg(bs.seat_id ORDER BY bs.seat_id) FROM booking_seats bs
         WHERE bs.booking_id = b.id) AS seat_ids
  FROM bookings b
  JOIN shows sh ON sh.id = b.show_id
  JOIN movies m ON m.id = sh.movie_id
  LEFT JOIN payments p ON p.booking_id = b.id
 WHERE b.status = 'REVIEW' AND ($1::uuid IS NULL OR b.show_id = $1)
   AND ($3::uuid IS NULL OR b.id = $3)
 ORDER BY b.created_at, b.id
 LIMIT $2
