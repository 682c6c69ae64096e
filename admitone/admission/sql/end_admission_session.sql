-- RoomRepository.end_session: the fan left, was revoked or booked: its slot is free, and a
-- rebuilt active set must not hold it again.
DELETE FROM admission_sessions WHERE show_id = $1 AND visitor_id = $2
