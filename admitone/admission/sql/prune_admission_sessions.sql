-- RoomRepository.prune_sessions: forget sessions that ended over an hour ago.
DELETE FROM admission_sessions WHERE session_ends_at < now() - interval '1 hour'
