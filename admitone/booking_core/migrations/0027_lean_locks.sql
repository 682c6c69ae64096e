-- Lean locks: the hold functions (lock, extend, release, sweep) do the same work as before in
-- fewer statements, and commit asynchronously. Signatures and result columns are those of
-- 0026 (lock) and 0002 (extend, release, sweep); the lock order, the all-or-nothing rule, the
-- limits (visitor, device, network) and the cheap lost race are unchanged. What each lever
-- measured: bench/README.md, "Lean locks".
--
-- Asynchronous commit of holds. Each hold function runs
--     PERFORM set_config('synchronous_commit', 'off', true)
-- (transaction-local; a function-level SET clause would not do: it is undone when the
-- function returns, before the commit). Its commit then returns without waiting for the WAL
-- flush; the WAL writer flushes it within wal_writer_delay (200 ms) or so. Why no invariant
-- of the README's "The parts" breaks:
--   * Atomicity is kept: a crash loses a hold transaction whole or not at all, never half.
--   * Only holds acknowledged in the last few hundred milliseconds before a crash of the
--     database server can be lost: a lock (the fan's checkout then answers 404 for the lock,
--     cleanly; the seats were never sold, and are free), a release or sweep (the seats stay
--     LOCKED until the lock's expiry, then the sweeper frees them again: no lock is left
--     behind), an extension (the lock ends at its earlier expiry, LOCK_EXPIRED at checkout).
--   * A sale is never lost and no seat is sold twice: checkout, settlement, confirmation and
--     refunds stay synchronous, and a synchronous commit waits for the WAL up to its own
--     commit record, which flushes every earlier record too. So a sale built on a hold makes
--     that hold durable before the sale is acknowledged; a hold another fan lost a race to is
--     either durable by then or lost together with everything after it.
--   * A hold is visible to other transactions before it is durable. A crash can then undo a
--     lock that made a rival get 409: that rival was refused a seat that ends up free, which
--     is what a fast rival lock would have done too; it is never given a seat held by another.
-- Call these functions as transactions of their own (seat_repository.py), or in one with other
-- holds only (backoffice.py's operator release and its audit row): the setting lasts to the
-- end of the calling transaction, so a sale must never call them inside its own.
--
-- Each seat by its whole key. The old functions reached seats with `seat_id = ANY (array)`;
-- in a generic plan the planner guesses ten elements, and without column statistics (a new
-- database) or on a small table it read every seat of the show for each such statement
-- (auto_explain in the benchmark: "Rows Removed by Filter: 499", about 0.25 ms each, four
-- to six times per lock + release). Now the plain read joins the wanted seats one by one by
-- (show_id, seat_id), and the row locks and writes loop over the seats in seat_id order with
-- one statement each: a lock names a few seats, each such statement is a primary-key probe
-- whatever the statistics, and the loop makes the seat_id lock order explicit.
--
-- Fewer statements, the same decisions:
--   * lock: the show and the plain read of the seats are one statement (an unknown seat is
--     found there too: show_seats rows are only ever inserted with their show); the visitor,
--     device and network counts are one; no audit row (below).
--   * release: re-reading the lock under its row lock and asking for a pending checkout is
--     one statement; the audit row only when the derived one would differ (below).
--
-- The lock's audit rows come from the lock record. A lock wrote an audit_log row (entity
-- 'lock', action 'LOCKED') repeating its seat_locks row, and a release another ('RELEASED',
-- the seats freed): two more heap rows and four index entries per cycle, for rows nothing
-- reads (the console's audit page reads operator entities only, migration 0007). The view
-- audit_trail is audit_log plus those two events derived from seat_locks: LOCKED at
-- created_at by visitor_id with {showId, seatIds, expiresAt} (expiresAt is the new column
-- granted_until, the expiry granted by the lock, which extensions do not move), and RELEASED
-- at updated_at (a released lock is never written again) with {showId, seatIds}. A release
-- still writes its audit_log row when it differs from that: when it freed fewer seats than
-- the lock named (some had expired and were taken) or the lock predates this migration (no
-- granted_until; its LOCKED row is in audit_log). EXPIRED (the sweeper, in batches) and
-- CONVERTED (payments) rows stay in audit_log. The one difference from the old rows: a
-- derived LOCKED lists seatIds in seat order, not in the order of the request.

ALTER TABLE seat_locks ADD COLUMN granted_until timestamptz;

CREATE VIEW audit_trail AS
SELECT a.id, a.at, a.actor, a.entity, a.entity_id, a.action, a.data
  FROM audit_log a
 UNION ALL
SELECT NULL::bigint, l.created_at, l.visitor_id, 'lock', l.id::text, 'LOCKED',
       jsonb_build_object('showId', l.show_id, 'seatIds', to_jsonb(l.seat_ids),
                          'expiresAt', l.granted_until)
  FROM seat_locks l
 WHERE l.granted_until IS NOT NULL
 UNION ALL
SELECT NULL::bigint, l.updated_at, l.visitor_id, 'lock', l.id::text, 'RELEASED',
       jsonb_build_object('showId', l.show_id, 'seatIds', to_jsonb(l.seat_ids))
  FROM seat_locks l
 WHERE l.granted_until IS NOT NULL AND l.status = 'RELEASED'
   AND NOT EXISTS (SELECT 1 FROM audit_log a
                    WHERE a.entity = 'lock' AND a.entity_id = l.id::text AND a.action = 'RELEASED');

CREATE OR REPLACE FUNCTION admitone_lock_seats(
    p_show uuid, p_seats text[], p_visitor text, p_lock uuid, p_seconds integer,
    p_network text, p_network_max integer, p_device text DEFAULT ''
) RETURNS TABLE (outcome text, seat_id text, price numeric, expires_at timestamptz, held integer,
               max_held integer, currency text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_status   text;
    v_time     timestamptz;
    v_max      integer;
    v_currency text;
    v_found    integer;
    v_bad      text[];
    v_sorted   text[];
    v_seat     text;
    v_seat_status text;
    v_seat_until  timestamptz;
    v_now      timestamptz;
    v_held     integer;
    v_dev      integer;
    v_net      integer;
    v_until    timestamptz;
BEGIN
    -- The show, and a plain read of the seats: a lost race costs no row lock, so the
    -- transaction gets no transaction id and its commit writes no WAL (migration 0025). The
    -- check is repeated below under the row locks: only that one decides a sale.
    SELECT sh.status, sh.show_time, sh.max_seats_per_visitor, sh.currency::text, r.found, r.bad
      INTO v_status, v_time, v_max, v_currency, v_found, v_bad
      FROM shows sh
     CROSS JOIN LATERAL (
           SELECT count(DISTINCT x.seat_id)::integer AS found,
                  array_agg(x.seat_id ORDER BY x.seat_id) FILTER (
                      WHERE NOT (x.status = 'AVAILABLE'
                                 OR (x.status = 'LOCKED' AND x.locked_until <= clock_timestamp())))
                      AS bad
             FROM unnest(p_seats) AS u (s)
            CROSS JOIN LATERAL (SELECT ss.seat_id, ss.status, ss.locked_until
                                  FROM show_seats ss
                                 WHERE ss.show_id = p_show AND ss.seat_id = u.s
                                OFFSET 0) x) r
     WHERE sh.id = p_show;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'NO_SHOW'::text, NULL::text, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text;
        RETURN;
    END IF;
    IF v_status <> 'ACTIVE' OR v_time <= now() THEN
        RETURN QUERY SELECT 'SHOW_CLOSED'::text, NULL::text, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text;
        RETURN;
    END IF;
    IF v_found < cardinality(p_seats) THEN
        RETURN QUERY
            SELECT 'UNKNOWN'::text, u.s, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text
              FROM unnest(p_seats) AS u (s)
             WHERE NOT EXISTS (SELECT 1 FROM show_seats ss WHERE ss.show_id = p_show AND ss.seat_id = u.s);
        RETURN;
    END IF;
    IF v_bad IS NOT NULL THEN
        RETURN QUERY SELECT 'UNAVAILABLE'::text, b, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text
                       FROM unnest(v_bad) AS b;
        RETURN;
    END IF;

    -- A hold: its commit need not wait for the WAL flush (the header says why that is safe).
    PERFORM set_config('synchronous_commit', 'off', true);

    -- One visitor's locks on one show run one at a time, so the seat limit holds even when a
    -- visitor races itself; then one device's, then one network's (always visitor, device,
    -- network: no two callers wait on each other in a cycle).
    PERFORM pg_advisory_xact_lock(hashtextextended(p_show::text || '/' || p_visitor, 0));
    IF p_device <> '' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_show::text || '/dev/' || p_device, 0));
    END IF;
    IF p_network <> '' AND p_network_max > 0 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_show::text || '/net/' || p_network, 0));
    END IF;

    -- All or nothing: hold every wanted row, in seat_id order, until commit, and check each
    -- under its lock (a row changed meanwhile is read in its newest version). One statement
    -- per seat, by its whole key: a lock names a few seats, and `seat_id = ANY (array)` let
    -- the planner read every seat of the show for each (bench/README.md, "Lean locks"). A seat
    -- whose lock had expired when its row was checked is still expired at v_now, taken after.
    v_sorted := ARRAY(SELECT s FROM unnest(p_seats) AS s ORDER BY s);
    FOREACH v_seat IN ARRAY v_sorted LOOP
        SELECT ss.status, ss.locked_until INTO v_seat_status, v_seat_until
          FROM show_seats ss
         WHERE ss.show_id = p_show AND ss.seat_id = v_seat
           FOR UPDATE;
        IF NOT FOUND THEN  -- found above; kept as the old function had it
            RETURN QUERY
                SELECT 'UNKNOWN'::text, u.s, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text
                  FROM unnest(p_seats) AS u (s)
                 WHERE NOT EXISTS (SELECT 1 FROM show_seats ss
                                    WHERE ss.show_id = p_show AND ss.seat_id = u.s);
            RETURN;
        END IF;
        IF NOT (v_seat_status = 'AVAILABLE'
                OR (v_seat_status = 'LOCKED' AND v_seat_until <= clock_timestamp())) THEN
            v_bad := v_bad || v_seat;
        END IF;
    END LOOP;
    IF v_bad IS NOT NULL THEN
        RETURN QUERY SELECT 'UNAVAILABLE'::text, b, NULL::numeric, NULL::timestamptz, 0, 0, NULL::text
                       FROM unnest(v_bad) AS b;
        RETURN;
    END IF;
    v_now := clock_timestamp();

    -- The limits, counted in one statement (each count a subquery, run only when its limit
    -- applies). Seats held by a visitor = seats of its live locks + seats of its held bookings
    -- (CONFIRMED or REVIEW; a live lock's seats cannot have been taken: only an expired lock
    -- loses seats); by a device = its live locks + the held seats of bookings from its locks;
    -- by a network = its live locks.
    SELECT (SELECT coalesce(sum(cardinality(l.seat_ids)), 0)::integer
              FROM seat_locks l
             WHERE l.show_id = p_show AND l.visitor_id = p_visitor AND l.status = 'ACTIVE'
               AND l.expires_at > v_now)
         + (SELECT count(*)::integer
              FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id
             WHERE b.show_id = p_show AND b.visitor_id = p_visitor AND bs.held),
           CASE WHEN p_device <> '' THEN
               (SELECT coalesce(sum(cardinality(l.seat_ids)), 0)::integer
                  FROM seat_locks l
                 WHERE l.show_id = p_show AND l.device = p_device AND l.status = 'ACTIVE'
                   AND l.expires_at > v_now)
             + (SELECT count(*)::integer
                  FROM seat_locks l
                  JOIN bookings b ON b.lock_id = l.id
                  JOIN booking_seats bs ON bs.booking_id = b.id
                 WHERE l.show_id = p_show AND l.device = p_device AND bs.held
                   -- (held seats are only these bookings'; the filter lets the join use
                   -- bookings_one_live_per_lock, not scan bookings)
                   AND b.status IN ('PENDING', 'CONFIRMED', 'REVIEW'))
           END,
           CASE WHEN p_network <> '' AND p_network_max > 0 THEN
               (SELECT coalesce(sum(cardinality(l.seat_ids)), 0)::integer
                  FROM seat_locks l
                 WHERE l.show_id = p_show AND l.network = p_network AND l.status = 'ACTIVE'
                   AND l.expires_at > v_now)
           END
      INTO v_held, v_dev, v_net;
    IF v_held + cardinality(p_seats) > v_max THEN
        RETURN QUERY SELECT 'LIMIT'::text, NULL::text, NULL::numeric, NULL::timestamptz,
                            v_held, v_max, NULL::text;
        RETURN;
    END IF;
    IF v_dev + cardinality(p_seats) > v_max THEN
        RETURN QUERY SELECT 'DEVICE_LIMIT'::text, NULL::text, NULL::numeric, NULL::timestamptz,
                            v_dev, v_max, NULL::text;
        RETURN;
    END IF;
    IF v_net + cardinality(p_seats) > p_network_max THEN
        RETURN QUERY SELECT 'NETWORK_LIMIT'::text, NULL::text, NULL::numeric, NULL::timestamptz,
                            v_net, p_network_max, NULL::text;
        RETURN;
    END IF;

    -- The lock record (its audit event is derived from it: audit_trail), then each seat by
    -- its key.
    v_until := v_now + make_interval(secs => p_seconds);
    INSERT INTO seat_locks (id, show_id, visitor_id, seat_ids, expires_at, granted_until,
                            created_at, updated_at, network, device)
    VALUES (p_lock, p_show, p_visitor, v_sorted, v_until, v_until, v_now, v_now,
            nullif(p_network, ''), nullif(p_device, ''));
    FOREACH v_seat IN ARRAY v_sorted LOOP
        RETURN QUERY
            UPDATE show_seats ss
               SET status = 'LOCKED', holder = p_visitor, lock_id = p_lock,
                   locked_until = v_until, version = ss.version + 1, updated_at = v_now
             WHERE ss.show_id = p_show AND ss.seat_id = v_seat
         RETURNING 'LOCKED'::text, ss.seat_id, ss.price, ss.locked_until, v_held, v_max,
                   v_currency;
    END LOOP;
END $$;


-- Outcomes: EXTENDED (expires_at is the new expiry), NOT_FOUND, EXPIRED, RELEASED, CONVERTED.
-- A lock lives at most p_max_life_seconds from its creation, however often it is extended, so a
-- heartbeat cannot hoard seats forever.
CREATE OR REPLACE FUNCTION admitone_extend_lock(
    p_lock uuid, p_visitor text, p_seconds integer, p_max_life_seconds integer
) RETURNS TABLE (outcome text, expires_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_lock  seat_locks%ROWTYPE;
    v_seat  text;
    v_is    boolean;
    v_end   timestamptz;
    v_mine  integer := 0;
    v_first timestamptz;
    v_now   timestamptz;
    v_until timestamptz;
BEGIN
    SELECT * INTO v_lock FROM seat_locks WHERE id = p_lock AND visitor_id = p_visitor;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'NOT_FOUND'::text, NULL::timestamptz;
        RETURN;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);  -- a hold (see the header)
    -- The lock's seats, held in seat_id order, each by its key (show_seats before seat_locks,
    -- as every writer): how many are still this lock's, and the earliest end among those.
    FOREACH v_seat IN ARRAY ARRAY(SELECT s FROM unnest(v_lock.seat_ids) AS s ORDER BY s) LOOP
        SELECT ss.lock_id = p_lock AND ss.status = 'LOCKED', ss.locked_until INTO v_is, v_end
          FROM show_seats ss
         WHERE ss.show_id = v_lock.show_id AND ss.seat_id = v_seat
           FOR UPDATE;
        IF v_is THEN
            v_mine := v_mine + 1;
            v_first := least(v_first, v_end);
        END IF;
    END LOOP;
    SELECT * INTO v_lock FROM seat_locks WHERE id = p_lock FOR UPDATE;
    v_now := clock_timestamp();
    IF v_lock.status <> 'ACTIVE' THEN
        RETURN QUERY SELECT v_lock.status, v_lock.expires_at;
        RETURN;
    END IF;
    IF v_lock.expires_at <= v_now OR v_mine < cardinality(v_lock.seat_ids) OR v_first <= v_now THEN
        RETURN QUERY SELECT 'EXPIRED'::text, v_lock.expires_at;
        RETURN;
    END IF;
    v_until := greatest(v_lock.expires_at,
                        least(v_now + make_interval(secs => p_seconds),
                              v_lock.created_at + make_interval(secs => p_max_life_seconds)));
    FOREACH v_seat IN ARRAY v_lock.seat_ids LOOP
        UPDATE show_seats ss SET locked_until = v_until, updated_at = v_now
         WHERE ss.show_id = v_lock.show_id AND ss.seat_id = v_seat AND ss.lock_id = p_lock;
    END LOOP;
    UPDATE seat_locks l SET expires_at = v_until, updated_at = v_now WHERE l.id = p_lock;
    RETURN QUERY SELECT 'EXTENDED'::text, v_until;
END $$;


-- Outcomes: RELEASED (also when it already was), NOT_FOUND, CONVERTED, IN_CHECKOUT.
CREATE OR REPLACE FUNCTION admitone_release_lock(p_lock uuid, p_visitor text)
RETURNS TABLE (outcome text, show_id uuid, seat_ids text[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_show    uuid;
    v_seats   text[];
    v_seat    text;
    v_status  text;
    v_pending boolean;
    v_derived boolean;
    v_one     text;
    v_freed   text[] := ARRAY[]::text[];
BEGIN
    SELECT l.show_id, ARRAY(SELECT s FROM unnest(l.seat_ids) AS s ORDER BY s)
      INTO v_show, v_seats
      FROM seat_locks l WHERE l.id = p_lock AND l.visitor_id = p_visitor;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'NOT_FOUND'::text, NULL::uuid, NULL::text[];
        RETURN;
    END IF;
    PERFORM set_config('synchronous_commit', 'off', true);  -- a hold (see the header)
    -- The lock's seats, held in seat_id order, each by its key (show_seats before seat_locks,
    -- as every writer).
    FOREACH v_seat IN ARRAY v_seats LOOP
        PERFORM 1 FROM show_seats ss WHERE ss.show_id = v_show AND ss.seat_id = v_seat FOR UPDATE;
    END LOOP;
    -- The lock under its row lock, and whether a checkout is paying for it (a checkout holds
    -- the seat rows while it writes its booking, so none is half done now): one statement.
    SELECT l.status, l.granted_until IS NOT NULL,
           EXISTS (SELECT 1 FROM bookings b WHERE b.lock_id = p_lock AND b.status = 'PENDING')
      INTO v_status, v_derived, v_pending
      FROM seat_locks l WHERE l.id = p_lock
       FOR UPDATE OF l;
    IF v_status = 'CONVERTED' THEN
        RETURN QUERY SELECT 'CONVERTED'::text, v_show, ARRAY[]::text[];
        RETURN;
    END IF;
    IF v_pending THEN
        RETURN QUERY SELECT 'IN_CHECKOUT'::text, v_show, ARRAY[]::text[];
        RETURN;
    END IF;
    -- Free the seats still this lock's, each by its key; then retire an active lock, with an
    -- audit row only where audit_trail's derived one would not say the same.
    FOREACH v_seat IN ARRAY v_seats LOOP
        UPDATE show_seats ss
           SET status = 'AVAILABLE', holder = NULL, lock_id = NULL, locked_until = NULL,
               version = ss.version + 1, updated_at = clock_timestamp()
         WHERE ss.show_id = v_show AND ss.seat_id = v_seat
           AND ss.lock_id = p_lock AND ss.status = 'LOCKED'
     RETURNING ss.seat_id INTO v_one;
        IF FOUND THEN
            v_freed := v_freed || v_one;
        END IF;
    END LOOP;
    IF v_status = 'ACTIVE' THEN
        UPDATE seat_locks l SET status = 'RELEASED', updated_at = clock_timestamp()
         WHERE l.id = p_lock;
        IF NOT v_derived OR v_freed <> v_seats THEN
            INSERT INTO audit_log (actor, entity, entity_id, action, data)
            VALUES (p_visitor, 'lock', p_lock::text, 'RELEASED',
                    jsonb_build_object('showId', v_show, 'seatIds', to_jsonb(v_freed)));
        END IF;
    END IF;
    RETURN QUERY SELECT 'RELEASED'::text, v_show, v_freed;
END $$;


-- The sweep of 0002, committed asynchronously like the other holds: a sweep lost in a crash
-- is done again by the next one.
CREATE OR REPLACE FUNCTION admitone_sweep_expired_locks(p_limit integer)
RETURNS TABLE (show_id uuid, seat_id text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);  -- a hold (see the header)
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
