-- MonitoringRepository.shows_on_sale: the shows that may be a `show` label of /metrics.
-- $1 most shows. A show is on sale while its waiting room is enabled (and the show has not
-- started more than six hours ago), or while seats of it are held by active locks (found
-- through the small partial index seat_locks_active_expiry_idx). Rooms first, then the shows
-- with the most active locks, then the rooms changed last; `has_room` says whose queue figures
-- to read from Redis.
WITH rooms AS (
    SELECT w.show_id, w.updated_at
      FROM waiting_rooms w
      JOIN shows s ON s.id = w.show_id
     WHERE w.enabled AND s.status = 'ACTIVE' AND s.show_time > now() - interval '6 hours'
), locking AS (
    SELECT show_id, count(*) AS locks
      FROM seat_locks
     WHERE status = 'ACTIVE' AND expires_at > now() - interval '1 day'
     GROUP BY show_id
)
SELECT coalesce(r.show_id, l.show_id)::text AS show_id, r.show_id IS NOT NULL AS has_room
  FROM rooms r
  FULL JOIN locking l ON l.show_id = r.show_id
 ORDER BY (r.show_id IS NOT NULL) DESC, coalesce(l.locks, 0) DESC,
          r.updated_at DESC NULLS LAST, 1
 LIMIT $1
