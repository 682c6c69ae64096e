-- MonitoringRepository.bookings_by_state: $1 show ids (uuid[]) -> (show_id, status, bookings).
-- Reached through bookings_show_visitor_idx (show_id leads it).
SELECT show_id::text AS show_id, status, count(*) AS bookings
  FROM bookings
 WHERE show_id = ANY($1::uuid[])
 GROUP BY show_id, status
