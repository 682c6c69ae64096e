-- CatalogService.get_show: $1 show id: the show with its screen's seat count.
SELECT sh.id, sh.movie_id, sh.screen_id, sh.show_time, sh.base_price, sh.currency, sh.status,
       sh.max_seats_per_visitor, sc.total_seats
  FROM shows sh
  JOIN screens sc ON sc.id = sh.screen_id
 WHERE sh.id = $1
