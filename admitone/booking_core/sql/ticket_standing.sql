-- TicketService.verify: $1 booking id, $2 ticket id: what the ticket's booking is now, when its
-- show ends, and whether the ticket is on the show's revoked list.
SELECT b.status, b.show_id,
       sh.show_time + make_interval(mins => mv.duration_minutes) AS ends_at,
       EXISTS (SELECT 1 FROM revoked_tickets r WHERE r.ticket_id = $2) AS revoked,
       clock_timestamp() AS now
  FROM bookings b
  JOIN shows sh ON sh.id = b.show_id
  JOIN movies mv ON mv.id = sh.movie_id
 WHERE b.id = $1
