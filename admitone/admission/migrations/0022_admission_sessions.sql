-- The sessions the admission scheduler handed out (one row per admitted fan of a room, the
-- latest session). Redis holds the live active set; when Redis loses a room's state (a restart
-- without persistence), sync.lua rebuilds that set from the rows whose session has not ended,
-- before anyone else is admitted, so maxActive holds across the restart (README, "Outages").
CREATE TABLE admission_sessions (
    show_id         uuid NOT NULL REFERENCES waiting_rooms (show_id) ON DELETE CASCADE,
    visitor_id      text NOT NULL,
    session_ends_at timestamptz NOT NULL,
    admitted_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (show_id, visitor_id)
);
CREATE INDEX admission_sessions_ends_idx ON admission_sessions (session_ends_at);
