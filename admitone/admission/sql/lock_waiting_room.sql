-- RoomRepository.patch: $1 show id: one show's waiting-room settings, locked for a change.
SELECT show_id, enabled, release_rate_per_minute, max_active, session_seconds, queue_mode, opens_at,
    starts_at, paused, fail_open, abandon_grace_seconds, pow_difficulty_bits, identity_required,
    updated_at
FROM waiting_rooms
WHERE show_id = $1
FOR UPDATE
