-- RoomRepository.show_on_sale: $1 show id: true when the show is active and has not started.
SELECT true
  FROM shows
 WHERE id = $1 AND status = 'ACTIVE' AND show_time > now()
