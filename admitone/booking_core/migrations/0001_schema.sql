-- The booking core's schema, shaped so the database itself keeps the invariants the README
-- lists under "The parts" (no seat sold twice, no paid fan without a seat).
-- Visitors are not accounts: a visitor is the `sub` of an access token, so ownership columns
-- are text. Seat ids inside a show are the screen's seat codes ("A1" … "J20").

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE movies (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    description      text,
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    language         text NOT NULL,
    genre            text NOT NULL,
    rating           numeric(3, 1) CHECK (rating BETWEEN 0 AND 10),
    release_date     date,
    poster_url       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    search           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(genre, '') || ' ' || coalesce(language, '')), 'B')
    ) STORED
);
CREATE INDEX movies_search_idx ON movies USING gin (search);

CREATE TABLE theaters (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    city       text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    address    text NOT NULL,
    timezone   text NOT NULL DEFAULT 'UTC',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX theaters_city_idx ON theaters (lower(city));

CREATE TABLE screens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    theater_id  uuid NOT NULL REFERENCES theaters (id),
    name        text NOT NULL,
    total_seats integer NOT NULL CHECK (total_seats > 0),
    layout      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX screens_theater_idx ON screens (theater_id);

CREATE TABLE seats (
    screen_id        uuid NOT NULL REFERENCES screens (id),
    seat_id          text NOT NULL,
    row_name         text NOT NULL,
    row_index        integer NOT NULL,
    seat_number      integer NOT NULL CHECK (seat_number > 0),
    seat_type        text NOT NULL,
    price_multiplier numeric(4, 2) NOT NULL CHECK (price_multiplier > 0),
    PRIMARY KEY (screen_id, seat_id)
);

CREATE TABLE shows (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    movie_id              uuid NOT NULL REFERENCES movies (id),
    screen_id             uuid NOT NULL REFERENCES screens (id),
    show_time             timestamptz NOT NULL,
    base_price            numeric(10, 2) NOT NULL CHECK (base_price >= 0),
    currency              char(3) NOT NULL,
    status                text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'CANCELLED')),
    max_seats_per_visitor integer NOT NULL DEFAULT 10 CHECK (max_seats_per_visitor > 0),
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shows_movie_time_idx ON shows (movie_id, show_time);
CREATE INDEX shows_screen_time_idx ON shows (screen_id, show_time);

-- One row per seat per show: the single source of truth for who holds a seat.
-- A LOCKED row carries its lock and expiry, a BOOKED row its booking; because the lock lives in
-- the seat's own row, a seat can never carry two locks, and the CHECK keeps each state whole.
CREATE TABLE show_seats (
    show_id      uuid NOT NULL REFERENCES shows (id),
    seat_id      text NOT NULL,
    row_name     text NOT NULL,
    row_index    integer NOT NULL,
    seat_number  integer NOT NULL,
    seat_type    text NOT NULL,
    price        numeric(10, 2) NOT NULL CHECK (price >= 0),
    status       text NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'LOCKED', 'BOOKED')),
    holder       text,
    lock_id      uuid,
    locked_until timestamptz,
    booking_id   uuid,
    version      integer NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (show_id, seat_id),
    CONSTRAINT show_seats_state_whole CHECK (
        (status = 'AVAILABLE' AND holder IS NULL AND lock_id IS NULL AND locked_until IS NULL AND booking_id IS NULL)
        OR (status = 'LOCKED' AND holder IS NOT NULL AND lock_id IS NOT NULL AND locked_until IS NOT NULL AND booking_id IS NULL)
        OR (status = 'BOOKED' AND holder IS NOT NULL AND lock_id IS NULL AND locked_until IS NULL AND booking_id IS NOT NULL)
    )
) WITH (fillfactor = 70);
-- Deliberately no index but the primary key: every lock and release rewrites status, holder,
-- lock and expiry, and with none of them indexed PostgreSQL updates the row in place (HOT),
-- so a hot show does not bloat its indexes. Seats are always reached by (show_id, seat_id):
-- a lock row lists its seat ids, and expired locks are found through seat_locks.

-- A lock is a visitor's hold on a set of seats (the API's lockId). No foreign key to shows:
-- every insert would take a KEY SHARE lock on the one hot show row, and thousands of those at
-- once turn into MultiXacts; admitone_lock_seats checks the show in the same transaction.
CREATE TABLE seat_locks (
    id         uuid PRIMARY KEY,
    show_id    uuid NOT NULL,
    visitor_id text NOT NULL,
    seat_ids   text[] NOT NULL,
    status     text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'RELEASED', 'EXPIRED', 'CONVERTED')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seat_locks_active_expiry_idx ON seat_locks (expires_at) WHERE status = 'ACTIVE';
CREATE INDEX seat_locks_visitor_idx ON seat_locks (show_id, visitor_id) WHERE status = 'ACTIVE';

CREATE TABLE bookings (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference    text NOT NULL UNIQUE,
    show_id      uuid NOT NULL REFERENCES shows (id),
    visitor_id   text NOT NULL,
    lock_id      uuid NOT NULL REFERENCES seat_locks (id),
    email        text NOT NULL,
    amount       numeric(10, 2) NOT NULL CHECK (amount >= 0),
    currency     char(3) NOT NULL,
    status       text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'CONFIRMED', 'FAILED', 'CANCELLED')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    cancelled_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bookings_show_visitor_idx ON bookings (show_id, visitor_id);
-- One lock pays for at most one live booking.
CREATE UNIQUE INDEX bookings_one_live_per_lock ON bookings (lock_id) WHERE status IN ('PENDING', 'CONFIRMED');

-- `held` is true while the booking is CONFIRMED: never two live bookings on one seat.
CREATE TABLE booking_seats (
    booking_id uuid NOT NULL REFERENCES bookings (id),
    show_id    uuid NOT NULL,
    seat_id    text NOT NULL,
    price      numeric(10, 2) NOT NULL CHECK (price >= 0),
    held       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (booking_id, seat_id),
    FOREIGN KEY (show_id, seat_id) REFERENCES show_seats (show_id, seat_id)
);
CREATE UNIQUE INDEX booking_seats_one_live_booking ON booking_seats (show_id, seat_id) WHERE held;

CREATE TABLE payments (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id             uuid NOT NULL UNIQUE REFERENCES bookings (id),
    amount                 numeric(10, 2) NOT NULL CHECK (amount >= 0),
    currency               char(3) NOT NULL,
    method                 text NOT NULL CHECK (method IN ('CARD', 'UPI', 'NETBANKING', 'WALLET')),
    gateway                text NOT NULL DEFAULT 'SANDBOX',
    gateway_transaction_id text,
    status                 text NOT NULL DEFAULT 'INITIATED' CHECK (status IN ('INITIATED', 'SUCCESS', 'FAILED', 'REFUNDED')),
    expires_at             timestamptz NOT NULL,
    initiated_at           timestamptz NOT NULL DEFAULT now(),
    completed_at           timestamptz,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_pending_idx ON payments (initiated_at) WHERE status = 'INITIATED';
-- No CONFIRMED booking without a SUCCESS payment: checked when the booking changes state.
CREATE FUNCTION admitone_check_confirmed_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'CONFIRMED' AND NOT EXISTS (
        SELECT 1 FROM payments WHERE booking_id = NEW.id AND status = 'SUCCESS'
    ) THEN
        RAISE EXCEPTION 'booking % cannot be CONFIRMED without a SUCCESS payment', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_confirmed_paid BEFORE UPDATE OF status ON bookings
    FOR EACH ROW WHEN (NEW.status = 'CONFIRMED') EXECUTE FUNCTION admitone_check_confirmed_paid();

CREATE TABLE refunds (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payment_id uuid NOT NULL REFERENCES payments (id),
    booking_id uuid NOT NULL REFERENCES bookings (id),
    amount     numeric(10, 2) NOT NULL CHECK (amount >= 0),
    reason     text NOT NULL CHECK (reason IN ('CANCELLATION', 'SEATS_LOST', 'DUPLICATE_PAYMENT')),
    status     text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'PROCESSED', 'FAILED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
-- A payment is refunded at most once (a refund asked for twice is the same refund).
CREATE UNIQUE INDEX refunds_one_per_payment ON refunds (payment_id);

CREATE TABLE idempotency_keys (
    visitor_id    text NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status_code   integer,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (visitor_id, key)
);

CREATE TABLE webhook_events (
    event_id    text PRIMARY KEY,
    payment_id  uuid,
    status      text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    next_try_at timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent_idx ON outbox (next_try_at) WHERE sent_at IS NULL;

CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    outbox_id  bigint NOT NULL UNIQUE REFERENCES outbox (id),
    channel    text NOT NULL,
    recipient  text NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    entity    text NOT NULL,
    entity_id text NOT NULL,
    action    text NOT NULL,
    data      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);
