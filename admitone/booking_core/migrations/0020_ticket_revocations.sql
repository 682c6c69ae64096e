-- Revoked e-tickets, per show, for venue scanners (README, "Tickets at the door").
-- A cancelled booking's ticket is added here in the cancellation's own transaction, and the
-- show's list version goes up by one, so a scanner that cached version N knows it is stale.
-- ticket_id is the ticket's jti (booking_core/tickets.py derives it from the booking id).

CREATE TABLE ticket_revocation_lists (
    show_id    uuid PRIMARY KEY REFERENCES shows (id),
    version    bigint NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE revoked_tickets (
    ticket_id  uuid PRIMARY KEY,
    show_id    uuid NOT NULL REFERENCES shows (id),
    booking_id uuid NOT NULL UNIQUE REFERENCES bookings (id),
    version    bigint NOT NULL,
    reason     text NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX revoked_tickets_show_idx ON revoked_tickets (show_id, version);
