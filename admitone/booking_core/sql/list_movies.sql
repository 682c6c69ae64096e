-- $1 city or NULL, $2 day or NULL (in the theater's time zone), $3 tsquery text or NULL.
-- Movies with an upcoming, active show matching the filters; best title match first.
SELECT m.id, m.title, m.language, m.genre, m.rating, m.duration_minutes, m.poster_url
  FROM movies m
 WHERE ($3::text IS NULL OR m.search @@ to_tsquery('simple', $3))
   AND EXISTS (
        SELECT 1
          FROM shows sh
          JOIN screens sc ON sc.id = sh.screen_id
          JOIN theaters t ON t.id = sc.theater_id
         WHERE sh.movie_id = m.id
           AND sh.status = 'ACTIVE'
           AND sh.show_time > now()
           AND ($1::text IS NULL OR lower(t.city) = lower($1))
           AND ($2::date IS NULL OR (sh.show_time AT TIME ZONE t.timezone)::date = $2))
 ORDER BY CASE WHEN $3::text IS NULL THEN 0 ELSE ts_rank(m.search, to_tsquery('simple', $3)) END DESC,
          m.release_date DESC NULLS LAST, m.title
 LIMIT 200
