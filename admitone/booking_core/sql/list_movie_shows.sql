-- $1 movie id, $2 city or NULL, $3 day or NULL: upcoming active shows, by theater then time.
SELECT t.id AS theater_id, t.name AS theater_name, t.city, t.address,
       sh.id, sh.show_time, sh.base_price, sh.currency, sc.name AS screen_name
  FROM shows sh
  JOIN screens sc ON sc.id = sh.screen_id
  JOIN theaters t ON t.id = sc.theater_id
 WHERE sh.movie_id = $1
   AND sh.status = 'ACTIVE'
   AND sh.show_time > now()
   AND ($2::text IS NULL OR lower(t.city) = lower($2))
   AND ($3::date IS NULL OR (sh.show_time AT TIME ZONE t.timezone)::date = $3)
 ORDER BY t.name, t.id, sh.show_time
