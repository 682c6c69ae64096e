-- RoomRepository.record_sessions: $1 show id, $2 visitor ids, $3 their sessions' ends (unix ms),
-- as admit.lua set them. A fan admitted again keeps only its newest session.
INSERT INTO admission_sessions (show_id, visitor_id, session_ends_at)
SELECT $1, visitor, to_timestamp(ends_ms / 1000.0)
  FROM unnest($2::text[], $3::bigint[]) AS s (visitor, ends_ms)
ON CONFLICT (show_id, visitor_id) DO UPDATE SET
    session_ends_at = EXCLUDED.session_ends_at,
    admitted_at = now()
