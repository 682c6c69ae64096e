-- SeatLockRepository.show_row: $1 show id: what the seat map needs of the show and its screen.
SELECT sh.id, sh.currency, sh.status, sh.show_time, sc.layout
  FROM shows sh
  JOIN screens sc ON sc.id = sh.screen_id
 WHERE sh.id = $1
