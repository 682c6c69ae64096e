-- RoomRepository.raise_ticket_floor: $1 show id, $2 the highest ticket number handed out: the
-- floor only rises, so a late writer never lowers it.
UPDATE waiting_rooms
   SET ticket_floor = GREATEST(ticket_floor, $2)
 WHERE show_id = $1
