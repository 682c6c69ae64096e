-- The verifiable pre-queue lottery of RANDOM_PREQUEUE rooms (admission/draw.py): the secret
-- seed, whose SHA-256 is published from the moment the room is set up, and, after the draw at
-- startsAt, the entries in drawn order, published with the seed. One draw per show.
CREATE TABLE queue_draws (
    show_id      uuid PRIMARY KEY REFERENCES shows (id),
    seed         bytea NOT NULL CHECK (length(seed) = 32),
    commitment   text NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now(),
    drawn_at     timestamptz,
    first_ticket bigint,
    entries      text[],
    CHECK ((drawn_at IS NULL) = (entries IS NULL))
);
