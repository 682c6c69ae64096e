-- Seat lock functions. Each runs in one round trip and takes its row locks in the one order
-- every writer in admitone follows, so no two transactions can wait on each other in a cycle:
--
--     payments → bookings → show_seats (by seat_id) → seat_locks
--
-- Times come from the database clock (clock_timestamp() once the rows are held), never from
-- the application server, whose clocks may disagree.

CREATE FUNCTION admitone_lock_seats(
    p_show uuid, p_seats text[], p_visitor text, p_lock uuid, p_seconds integer
) RETURNS TABLE (outcome text, seat_id text, price numeric, expires_at timestamptz, held integer,
               max_held integer, currency text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_show   shows%ROWTYPE;
    v_found  integer;
    v_now    timestamptz;
    v_bad    text[];
    v_held   integer;
    v_until  timestamptz;
BEGIN
    SELECT * INTO v_show FROM shows WHERE id = p_show;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'NO_SHOW'::text, NULL::text, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text;
        RETURN;
    END IF;
    IF v_show.status <> 'ACTIVE' OR v_show.show_time <= now() THEN
        RETURN QUERY SELECT 'SHOW_CLOSED'::text, NULL::text, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text;
        RETURN;
    END IF;

    -- One visitor's locks on one show run one at a time, so the seat limit holds even when a
    -- visitor races itself; different visitors never wait here.
    PERFORM pg_advisory_xact_lock(hashtextextended(p_show::text || '/' || p_visitor, 0));

    -- All or nothing: hold every wanted row, in seat_id order, until commit.
    PERFORM 1 FROM show_seats
     WHERE show_id = p_show AND seat_id = ANY (p_seats)
     ORDER BY seat_id
       FOR UPDATE;
    GET DIAGNOSTICS v_found = ROW_COUNT;
    IF v_found < cardinality(p_seats) THEN
        RETURN QUERY
            SELECT 'UNKNOWN'::text, u.s, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text
              FROM unnest(p_seats) AS u (s)
             WHERE NOT EXISTS (SELECT 1 FROM show_seats ss WHERE ss.show_id = p_show AND ss.seat_id = u.s);
        RETURN;
    END IF;

    v_now := clock_timestamp();
    SELECT array_agg(ss.seat_id ORDER BY ss.seat_id) INTO v_bad
      FROM show_seats ss
     WHERE ss.show_id = p_show AND ss.seat_id = ANY (p_seats)
       AND NOT (ss.status = 'AVAILABLE' OR (ss.status = 'LOCKED' AND ss.locked_until <= v_now));
    IF v_bad IS NOT NULL THEN
        RETURN QUERY SELECT 'UNAVAILABLE'::text, b, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text
                       FROM unnest(v_bad) AS b;
        RETURN;
    END IF;

    -- Seats held = seats of the visitor's live locks + seats of its confirmed bookings (a live
    -- lock's seats cannot have been taken: only an expired lock loses seats).
    SELECT coalesce(sum(cardinality(l.seat_ids)), 0) INTO v_held
      FROM seat_locks l
     WHERE l.show_id = p_show AND l.visitor_id = p_visitor AND l.status = 'ACTIVE'
       AND l.expires_at > v_now;
    v_held := v_held + (SELECT count(*) FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id
                         WHERE b.show_id = p_show AND b.visitor_id = p_visitor AND bs.held);
    IF v_held + cardinality(p_seats) > v_show.max_seats_per_visitor THEN
        RETURN QUERY SELECT 'LIMIT'::text, NULL::text, NULL::numeric, NULL::timestamptz,
                            v_held, v_show.max_seats_per_visitor, NULL::text;
        RETURN;
    END IF;

    v_until := v_now + make_interval(secs => p_seconds);
    INSERT INTO seat_locks (id, show_id, visitor_id, seat_ids, expires_at, created_at, updated_at)
    VALUES (p_lock, p_show, p_visitor, (SELECT array_agg(s ORDER BY s) FROM unnest(p_seats) AS s),
            v_until, v_now, v_now);
    INSERT INTO audit_log (at, actor, entity, entity_id, action, data)
    VALUES (v_now, p_visitor, 'lock', p_lock::text, 'LOCKED',
            jsonb_build_object('showId', p_show, 'seatIds', to_jsonb(p_seats), 'expiresAt', v_until));

    RETURN QUERY
        UPDATE show_seats ss
           SET status = 'LOCKED', holder = p_visitor, lock_id = p_lock, locked_until = v_until,
               version = ss.version + 1, updated_at = v_now
         WHERE ss.show_id = p_show AND ss.seat_id = ANY (p_seats)
     RETURNING 'LOCKED'::text, ss.seat_id, ss.price, ss.locked_until, v_held,
               v_show.max_seats_per_visitor, v_show.currency::text;
END $$;


-- Outcomes: EXTENDED (expires_at is the new expiry), NOT_FOUND, EXPIRED, RELEASED, CONVERTED.
-- A lock lives at most p_max_life_seconds from its creation, however often it is extended, so a
-- heartbeat cannot hoard seats forever.
CREATE FUNCTION admitone_extend_lock(
    p_lock uuid, p_visitor text, p_seconds integer, p_max_life_seconds integer
) RETURNS TABLE (outcome text, expires_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_lock  seat_locks%ROWTYPE;
    v_now   timestamptz;
    v_mine  integer;
    v_until timestamptz;
BEGIN
    SELECT * INTO v_lock FROM seat_locks WHERE id = p_lock AND visitor_id = p_visitor;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'NOT_FOUND'::text, NULL::timestamptz;
        RETURN;
    END IF;
    PERFORM 1 FROM show_seats
     WHERE show_id = v_lock.show_id AND seat_id = ANY (v_lock.seat_ids)
     ORDER BY seat_id
       FOR UPDATE;
    SELECT * INTO v_lock FROM seat_locks WHERE id = p_lock FOR UPDATE;
    v_now := clock_timestamp();
    IF v_lock.status <> 'ACTIVE' THEN
        RETURN QUERY SELECT v_lock.status, v_lock.expires_at;
        RETURN;
    END IF;
    SELECT count(*) INTO v_mine FROM show_seats
     WHERE show_id = v_lock.show_id AND seat_id = ANY (v_lock.seat_ids)
       AND lock_id = p_lock AND status = 'LOCKED' AND locked_until > v_now;
    IF v_lock.expires_at <= v_now OR v_mine < cardinality(v_lock.seat_ids) THEN
        RETURN QUERY SELECT 'EXPIRED'::text, v_lock.expires_at;
        RETURN;
    END IF;
    v_until := greatest(v_lock.expires_at,
                        least(v_now + make_interval(secs => p_seconds),
                              v_lock.created_at + make_interval(secs => p_max_life_seconds)));
    UPDATE show_seats SET locked_until = v_until, updated_at = v_now
     WHERE show_id = v_lock.show_id AND seat_id = ANY (v_lock.seat_ids) AND lock_id = p_lock;
    UPDATE seat_locks SET expires_at = v_until, updated_at = v_now WHERE id = p_lock;
    RETURN QUERY SELECT 'EXTENDED'::text, v_until;
END $$;


-- Outcomes: RELEASED (also when it already was), NOT_FOUND, CONVERTED, IN_CHECKOUT.
CREATE FUNCTION admitone_release_lock(p_lock uuid, p_visitor text)
RETURNS TABLE (outcome text, show_id uuid, seat_ids text[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_lock  seat_locks%ROWTYPE;
    v_freed text[];
BEGIN
    SELECT * INTO v_lock FROM seat_locks WHERE id = p_lock AND visitor_id = p_visitor;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'NOT_FOUND'::text, NULL::uuid, NULL::text[];
        RETURN;
    END IF;
    PERFORM 1 FROM show_seats
     WHERE show_id = v_lock.show_id AND seat_id = ANY (v_lock.seat_ids)
     ORDER BY seat_id
       FOR UPDATE;
    SELECT * INTO v_lock FROM seat_locks WHERE id = p_lock FOR UPDATE;
    IF v_lock.status = 'CONVERTED' THEN
        RETURN QUERY SELECT 'CONVERTED'::text, v_lock.show_id, ARRAY[]::text[];
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM bookings WHERE lock_id = p_lock AND status = 'PENDING') THEN
        RETURN QUERY SELECT 'IN_CHECKOUT'::text, v_lock.show_id, ARRAY[]::text[];
        RETURN;
    END IF;
    WITH freed AS (
        UPDATE show_seats
           SET status = 'AVAILABLE', holder = NULL, lock_id = NULL, locked_until = NULL,
               version = version + 1, updated_at = clock_timestamp()
         WHERE show_id = v_lock.show_id AND seat_id = ANY (v_lock.seat_ids)
           AND lock_id = p_lock AND status = 'LOCKED'
     RETURNING seat_id
    )
    SELECT coalesce(array_agg(seat_id), ARRAY[]::text[]) INTO v_freed FROM freed;
    IF v_lock.status = 'ACTIVE' THEN
        UPDATE seat_locks SET status = 'RELEASED', updated_at = clock_timestamp() WHERE id = p_lock;
        INSERT INTO audit_log (actor, entity, entity_id, action, data)
        VALUES (p_visitor, 'lock', p_lock::text, 'RELEASED',
                jsonb_build_object('showId', v_lock.show_id, 'seatIds', to_jsonb(v_freed)));
    END IF;
    RETURN QUERY SELECT 'RELEASED'::text, v_lock.show_id, v_freed;
END $$;


-- Frees the seats of up to p_limit expired locks and retires those locks. Expired locks are
-- found through seat_locks (show_seats has no expiry index, see 0001). SKIP LOCKED: a seat that
-- a lock, extension or payment holds right now is left for the next sweep, never waited on,
-- and a lock is retired only once none of its seats is still LOCKED by it.
CREATE FUNCTION admitone_sweep_expired_locks(p_limit integer)
RETURNS TABLE (show_id uuid, seat_id text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT l.id, l.show_id, l.seat_ids FROM seat_locks l
         WHERE l.status = 'ACTIVE' AND l.expires_at <= clock_timestamp()
         ORDER BY l.expires_at
         LIMIT p_limit
    ),
    expired AS (
        SELECT ss.show_id, ss.seat_id
          FROM show_seats ss
          JOIN due d ON ss.show_id = d.show_id AND ss.seat_id = ANY (d.seat_ids) AND ss.lock_id = d.id
         WHERE ss.status = 'LOCKED' AND ss.locked_until <= clock_timestamp()
         ORDER BY ss.show_id, ss.seat_id
           FOR UPDATE OF ss SKIP LOCKED
    )
    UPDATE show_seats ss
       SET status = 'AVAILABLE', holder = NULL, lock_id = NULL, locked_until = NULL,
           version = ss.version + 1, updated_at = clock_timestamp()
      FROM expired e
     WHERE ss.show_id = e.show_id AND ss.seat_id = e.seat_id
 RETURNING ss.show_id, ss.seat_id;

    WITH retired AS (
        UPDATE seat_locks l SET status = 'EXPIRED', updated_at = clock_timestamp()
         WHERE l.id IN (SELECT c.id FROM seat_locks c
                         WHERE c.status = 'ACTIVE' AND c.expires_at <= clock_timestamp()
                           AND NOT EXISTS (
                               SELECT 1 FROM show_seats ss
                                WHERE ss.show_id = c.show_id AND ss.seat_id = ANY (c.seat_ids)
                                  AND ss.lock_id = c.id AND ss.status = 'LOCKED')
                         ORDER BY c.expires_at LIMIT p_limit
                           FOR UPDATE SKIP LOCKED)
     RETURNING l.id, l.show_id, l.visitor_id, l.seat_ids
    )
    INSERT INTO audit_log (actor, entity, entity_id, action, data)
    SELECT 'sweeper', 'lock', r.id::text, 'EXPIRED',
           jsonb_build_object('showId', r.show_id, 'visitorId', r.visitor_id, 'seatIds', to_jsonb(r.seat_ids))
      FROM retired r;
END $$;
