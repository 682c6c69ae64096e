-- MonitoringRepository.seats_by_state: $1 show ids (uuid[]) -> (show_id, status, seats).
-- Reached through the primary key (show_id leads it).
SELECT show_id::text AS show_id, status, count(*) AS seats
  FROM show_seats
 WHERE show_id = ANY($1::uuid[])
 GROUP BY show_id, status
