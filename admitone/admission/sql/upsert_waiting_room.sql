-- RoomRepository.put and .patch: create or replace one show's waiting-room settings.
INSERT INTO waiting_rooms (show_id, enabled, release_rate_per_minute, max_active, session_seconds,
    queue_mode, opens_at, starts_at, paused, fail_open, abandon_grace_seconds, pow_difficulty_bits,
    identity_required, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, clock_timestamp())
ON CONFLICT (show_id) DO UPDATE SET
    enabled = EXCLUDED.enabled,
    release_rate_per_minute = EXCLUDED.release_rate_per_minute,
    max_active = EXCLUDED.max_active,
    session_seconds = EXCLUDED.session_seconds,
    queue_mode = EXCLUDED.queue_mode,
    opens_at = EXCLUDED.opens_at,
    starts_at = EXCLUDED.starts_at,
    paused = EXCLUDED.paused,
    fail_open = EXCLUDED.fail_open,
    abandon_grace_seconds = EXCLUDED.abandon_grace_seconds,
    pow_difficulty_bits = EXCLUDED.pow_difficulty_bits,
    identity_required = EXCLUDED.identity_required,
    updated_at = clock_timestamp()
RETURNING show_id, enabled, release_rate_per_minute, max_active, session_seconds, queue_mode, opens_at,
    starts_at, paused, fail_open, abandon_grace_seconds, pow_difficulty_bits, identity_required,
    updated_at
