-- RoomRepository.live_sessions: (visitor, end of session in unix ms) of the room's sessions
-- that have not ended yet.
SELECT visitor_id, (extract(epoch FROM session_ends_at) * 1000)::bigint AS ends_ms
  FROM admission_sessions
 WHERE show_id = $1 AND session_ends_at > now()
