-- $1 show id (NULL: every show, the 200 latest): each show with its movie, theater and screen, for the operator console (soonest first).
SELECT sh.id, sh.show_time, sh.base_price, sh.currency::text AS currency, sh.status,
       mv.title, t.name AS theater, t.city, t.timezone, sc.name AS screen, sc.total_seats,
       wr.enabled AS room_enabled, wr.paused AS room_paused
  FROM shows sh
  JOIN movies mv ON mv.id = sh.movie_id
  JOIN screens sc ON sc.id = sh.screen_id
  JOIN theaters t ON t.id = sc.theater_id
  LEFT JOIN waiting_rooms wr ON wr.show_id = sh.id
 WHERE $1::uuid IS NULL OR sh.id = $1
 ORDER BY sh.show_time DESC
 LIMIT 200
