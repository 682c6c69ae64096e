-- CatalogService.show_details: $1 show id: title, time and place of the show, for pages,
-- tickets and e-mails.
SELECT sh.id, sh.movie_id, sh.show_time, sh.currency, mv.title, mv.language, mv.duration_minutes,
       t.name AS theater, t.city, t.address, t.timezone, sc.name AS screen
  FROM shows sh
  JOIN movies mv ON mv.id = sh.movie_id
  JOIN screens sc ON sc.id = sh.screen_id
  JOIN theaters t ON t.id = sc.theater_id
 WHERE sh.id = $1
