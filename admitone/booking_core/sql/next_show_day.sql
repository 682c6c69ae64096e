-- $1 city or NULL, $2 the first day to look at, $3 movie id or NULL: the first day from $2 on
-- (in the theater's time zone) with an upcoming, active show matching the filters; NULL if none.
SELECT min((sh.show_time AT TIME ZONE t.timezone)::date)
  FROM shows sh
  JOIN screens sc ON sc.id = sh.screen_id
  JOIN theaters t ON t.id = sc.theater_id
 WHERE sh.status = 'ACTIVE'
   AND sh.show_time > now()
   AND ($1::text IS NULL OR lower(t.city) = lower($1))
   AND ($3::uuid IS NULL OR sh.movie_id = $3)
   AND (sh.show_time AT TIME ZONE t.timezone)::date >= $2
