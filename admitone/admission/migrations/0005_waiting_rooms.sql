-- Waiting rooms: one row of settings per show, mirrored into Redis where the queue
-- lives. Redis keeps nothing on disk; after a restart the rooms are restored from here.
CREATE TABLE waiting_rooms (
    show_id                 uuid PRIMARY KEY REFERENCES shows (id),
    enabled                 boolean NOT NULL,
    release_rate_per_minute integer NOT NULL CHECK (release_rate_per_minute > 0),
    max_active              integer NOT NULL CHECK (max_active > 0),
    session_seconds         integer NOT NULL CHECK (session_seconds > 0),
    queue_mode              text NOT NULL CHECK (queue_mode IN ('FIFO', 'RANDOM_PREQUEUE')),
    opens_at                timestamptz,
    starts_at               timestamptz,
    paused                  boolean NOT NULL DEFAULT false,
    fail_open               boolean NOT NULL DEFAULT false,
    abandon_grace_seconds   integer NOT NULL DEFAULT 60 CHECK (abandon_grace_seconds > 0),
    pow_difficulty_bits     integer NOT NULL DEFAULT 0
                            CHECK (pow_difficulty_bits BETWEEN 0 AND 32),
    -- Above every ticket number handed out so far (the scheduler keeps it up to date), so that
    -- after a Redis restart new fans queue behind those who get their old places back.
    ticket_floor            bigint NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (opens_at IS NULL OR starts_at IS NULL OR opens_at <= starts_at)
);
CREATE INDEX waiting_rooms_enabled_idx ON waiting_rooms (show_id) WHERE enabled;

-- Revoked visitors: their access tokens stop working. Kept here too so a Redis restart does
-- not bring a revoked token back to life.
CREATE TABLE token_revocations (
    show_id       uuid NOT NULL REFERENCES shows (id),
    visitor_id    text NOT NULL,
    revoked_until timestamptz NOT NULL,
    revoked_at    timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    PRIMARY KEY (show_id, visitor_id)
);
