-- The seat limit per device: a visitor id is free (every join mints one), so the limit is
-- also counted per device cookie (`admitone_device`, set by the fan's pages, gateway/device.py).
-- seat_locks.device names the lock's device (NULL without the cookie: API clients and scripts
-- get no device limit, only the network cap and the checkout's e-mail/instrument limit). The
-- seats a device holds of a show = the seats of its live locks + the held seats of bookings
-- made from its locks; they may not pass the show's max_seats_per_visitor.
--
-- admitone_lock_seats of 0025 plus p_device ('' for none). The 7-argument function is dropped:
-- beside an 8-argument one with a DEFAULT, a 7-argument call would be ambiguous.

ALTER TABLE seat_locks ADD COLUMN device text;
CREATE INDEX seat_locks_device_idx ON seat_locks (show_id, device) WHERE device IS NOT NULL;

DROP FUNCTION admitone_lock_seats(uuid, text[], text, uuid, integer, text, integer);

CREATE OR REPLACE FUNCTION admitone_lock_seats(
    p_show uuid, p_seats text[], p_visitor text, p_lock uuid, p_seconds integer,
    p_network text, p_network_max integer, p_device text DEFAULT ''
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
    v_net    integer;
    v_dev    integer;
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

    -- A lost race costs no row lock: seats already taken are found by a plain read, so the
    -- transaction gets no transaction id and its commit writes and flushes no WAL. During an
    -- on-sale most attempts lose, and each used to take row locks and flush a commit.
    -- (The check is repeated below under the row locks: only that one decides a sale.)
    SELECT count(*), array_agg(ss.seat_id ORDER BY ss.seat_id) FILTER (
               WHERE NOT (ss.status = 'AVAILABLE'
                          OR (ss.status = 'LOCKED' AND ss.locked_until <= clock_timestamp())))
      INTO v_found, v_bad
      FROM show_seats ss
     WHERE ss.show_id = p_show AND ss.seat_id = ANY (p_seats);
    IF v_found = cardinality(p_seats) AND v_bad IS NOT NULL THEN  -- unknown seats: below
        RETURN QUERY SELECT 'UNAVAILABLE'::text, b, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text
                       FROM unnest(v_bad) AS b;
        RETURN;
    END IF;

    -- One visitor's locks on one show run one at a time, so the seat limit holds even when a
    -- visitor races itself; then one network's, so its cap holds under a crowd of new visitors
    -- (always visitor before network: no two callers wait on each other in a cycle).
    PERFORM pg_advisory_xact_lock(hashtextextended(p_show::text || '/' || p_visitor, 0));
    -- Then one device's (visitor, device, network: always this order), so the limit holds when
    -- one browser's new visitors lock at once.
    IF p_device <> '' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_show::text || '/dev/' || p_device, 0));
    END IF;
    IF p_network <> '' AND p_network_max > 0 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_show::text || '/net/' || p_network, 0));
    END IF;

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

    -- Seats held = seats of the visitor's live locks + seats of its held bookings (CONFIRMED
    -- or REVIEW; a live lock's seats cannot have been taken: only an expired lock loses seats).
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

    -- The same limit per device: its live locks + the held seats of bookings from its locks.
    IF p_device <> '' THEN
        SELECT coalesce(sum(cardinality(l.seat_ids)), 0) INTO v_dev
          FROM seat_locks l
         WHERE l.show_id = p_show AND l.device = p_device AND l.status = 'ACTIVE'
           AND l.expires_at > v_now;
        v_dev := v_dev + (SELECT count(*)
                            FROM seat_locks l
                            JOIN bookings b ON b.lock_id = l.id
                            JOIN booking_seats bs ON bs.booking_id = b.id
                           WHERE l.show_id = p_show AND l.device = p_device AND bs.held
                             -- (held seats are only these bookings'; the filter lets the
                             -- join use bookings_one_live_per_lock, not scan bookings)
                             AND b.status IN ('PENDING', 'CONFIRMED', 'REVIEW'));
        IF v_dev + cardinality(p_seats) > v_show.max_seats_per_visitor THEN
            RETURN QUERY SELECT 'DEVICE_LIMIT'::text, NULL::text, NULL::numeric, NULL::timestamptz,
                                v_dev, v_show.max_seats_per_visitor, NULL::text;
            RETURN;
        END IF;
    END IF;

    IF p_network <> '' AND p_network_max > 0 THEN
        SELECT coalesce(sum(cardinality(l.seat_ids)), 0) INTO v_net
          FROM seat_locks l
         WHERE l.show_id = p_show AND l.network = p_network AND l.status = 'ACTIVE'
           AND l.expires_at > v_now;
        IF v_net + cardinality(p_seats) > p_network_max THEN
            RETURN QUERY SELECT 'NETWORK_LIMIT'::text, NULL::text, NULL::numeric, NULL::timestamptz,
                                v_net, p_network_max, NULL::text;
            RETURN;
        END IF;
    END IF;

    v_until := v_now + make_interval(secs => p_seconds);
    INSERT INTO seat_locks (id, show_id, visitor_id, seat_ids, expires_at, created_at, updated_at,
                            network, device)
    VALUES (p_lock, p_show, p_visitor, (SELECT array_agg(s ORDER BY s) FROM unnest(p_seats) AS s),
            v_until, v_now, v_now, nullif(p_network, ''), nullif(p_device, ''));
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
