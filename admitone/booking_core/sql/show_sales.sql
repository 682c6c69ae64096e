-- $1 show id: seats by state (an expired lock counts as available) and confirmed sales.
SELECT count(*) FILTER (WHERE status = 'AVAILABLE'
                           OR (status = 'LOCKED' AND locked_until <= clock_timestamp())) AS available,
       count(*) FILTER (WHERE status = 'LOCKED' AND locked_until > clock_timestamp()) AS locked,
       count(*) FILTER (WHERE status = 'BOOKED') AS booked,
       (SELECT count(*) FROM bookings WHERE show_id = $1 AND status = 'CONFIRMED') AS bookings,
       (SELECT count(*) FROM bookings WHERE show_id = $1 AND status = 'PENDING') AS pending,
       (SELECT coalesce(sum(amount), 0) FROM bookings
         WHERE show_id = $1 AND status = 'CONFIRMED') AS revenue
  FROM show_seats
 WHERE show_id = $1
