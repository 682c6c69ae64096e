-- Lock batches (issue 14): one transaction decides several lock requests of one show, in the
-- order given, each all or nothing and answered on its own, by calling admitone_lock_seats for
-- each. A worker's concurrent locks of a show are gathered into one such call
-- (booking_core/lock_batches.py), so a commit and its WAL flush serve a whole batch.
--
-- Requests: the parallel arrays p_visitors, p_locks, p_networks, p_devices (request i is their
-- i-th element, 1-based, '' for no network or device); p_seats holds every request's seats and
-- p_seat_requests the request number of each. Result: admitone_lock_seats' rows of each request,
-- request_no first, requests in order.
--
-- No new deadlock: the batch first takes every lock its requests can need, in the one order
-- admitone_lock_seats takes them in (visitor advisory locks, then device ones, then network
-- ones, then show_seats rows in seat_id order): all visitor keys sorted, all device keys sorted,
-- all network keys sorted, then the rows of the union of the seats ORDER BY seat_id FOR UPDATE.
-- The calls after that take nothing new (advisory xact locks and row locks are re-entrant in
-- a transaction); they only insert seat_locks rows under fresh ids and audit rows, which wait
-- on no one. So toward every other transaction the batch is one lock call of many seats and
-- advisory keys: it waits only in that order, like every caller of admitone_lock_seats, while
-- checkout, settlement, extend and release take show_seats rows in seat_id order, then
-- seat_locks rows, and never an advisory key of a lock (the sweep skips locked rows).
-- The keys below must stay those of admitone_lock_seats (tests/integration/test_lock_batches.py
-- compares the advisory locks of both).
--
-- A lost race stays cheap: a request whose seats are all known and some already taken is
-- answered UNAVAILABLE from a plain read, as admitone_lock_seats' first read would, and takes
-- no lock; a batch of only such requests takes no transaction id. Its answer names the seats
-- taken when its turn comes (those the first read saw and those earlier requests of the batch
-- took), as if it had come alone after them.

CREATE FUNCTION admitone_lock_seats_batch(
    p_show uuid, p_seconds integer, p_network_max integer,
    p_visitors text[], p_locks uuid[], p_networks text[], p_devices text[],
    p_seat_requests integer[], p_seats text[]
) RETURNS TABLE (request_no integer, outcome text, seat_id text, price numeric,
                 expires_at timestamptz, held integer, max_held integer, currency text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_n     integer := cardinality(p_visitors);
    v_show  shows%ROWTYPE;
    v_lost  jsonb;   -- request number -> its taken seats, for the requests lost at first sight
    v_union text[];
    v_key   bigint;
    v_mine  text[];           -- the seats of request i
    v_row   record;
    v_taken boolean := false; -- whether a request of this batch has locked seats yet
BEGIN
    SELECT * INTO v_show FROM shows WHERE id = p_show;
    IF NOT FOUND OR v_show.status <> 'ACTIVE' OR v_show.show_time <= now() THEN
        v_lost := '{}';  -- every call answers NO_SHOW or SHOW_CLOSED before any lock
    ELSE
        -- admitone_lock_seats' first read, for every request at once.
        SELECT coalesce(jsonb_object_agg(pre.req::text, to_jsonb(pre.bad)), '{}') INTO v_lost
          FROM (SELECT w.req, count(DISTINCT ss.seat_id) AS found, count(*) AS wanted,
                       array_agg(ss.seat_id ORDER BY ss.seat_id) FILTER (
                           WHERE NOT (ss.status = 'AVAILABLE'
                                      OR (ss.status = 'LOCKED'
                                          AND ss.locked_until <= clock_timestamp()))) AS bad
                  FROM unnest(p_seat_requests, p_seats) AS w (req, seat)
                  LEFT JOIN show_seats ss ON ss.show_id = p_show AND ss.seat_id = w.seat
                 GROUP BY w.req) pre
         WHERE pre.found = pre.wanted AND pre.bad IS NOT NULL;

        -- Every lock the other requests' calls can take, in admitone_lock_seats' order.
        FOR v_key IN
            SELECT k.key FROM (
                SELECT 1 AS rank, hashtextextended(p_show::text || '/' || p_visitors[r], 0) AS key
                  FROM generate_series(1, v_n) AS r WHERE NOT v_lost ? r::text
                UNION
                SELECT 2, hashtextextended(p_show::text || '/dev/' || p_devices[r], 0)
                  FROM generate_series(1, v_n) AS r
                 WHERE NOT v_lost ? r::text AND p_devices[r] <> ''
                UNION
                SELECT 3, hashtextextended(p_show::text || '/net/' || p_networks[r], 0)
                  FROM generate_series(1, v_n) AS r
                 WHERE NOT v_lost ? r::text AND p_networks[r] <> '' AND p_network_max > 0
            ) k
            ORDER BY k.rank, k.key
        LOOP
            PERFORM pg_advisory_xact_lock(v_key);
        END LOOP;
        SELECT array_agg(DISTINCT w.seat) INTO v_union
          FROM unnest(p_seat_requests, p_seats) AS w (req, seat)
         WHERE NOT v_lost ? w.req::text;
        PERFORM 1 FROM show_seats
         WHERE show_id = p_show AND seat_id = ANY (v_union)
         ORDER BY seat_id
           FOR UPDATE;
    END IF;

    FOR i IN 1 .. v_n LOOP
        v_mine := ARRAY(SELECT w.seat
                          FROM unnest(p_seat_requests, p_seats) WITH ORDINALITY AS w (req, seat, k)
                         WHERE w.req = i ORDER BY w.k);
        IF NOT v_lost ? i::text THEN
            FOR v_row IN SELECT * FROM admitone_lock_seats(p_show, v_mine, p_visitors[i],
                                                           p_locks[i], p_seconds, p_networks[i],
                                                           p_network_max, p_devices[i])
            LOOP
                v_taken := v_taken OR v_row.outcome = 'LOCKED';
                RETURN QUERY SELECT i, v_row.outcome, v_row.seat_id, v_row.price,
                                    v_row.expires_at, v_row.held, v_row.max_held, v_row.currency;
            END LOOP;
        ELSIF NOT v_taken THEN  -- nothing taken since the first read: its answer stands
            RETURN QUERY SELECT i, 'UNAVAILABLE'::text, b.s, NULL::numeric, NULL::timestamptz,
                                0, 0, NULL::text
                           FROM jsonb_array_elements_text(v_lost -> i::text) AS b (s);
        ELSE  -- earlier requests of the batch may have taken more of its seats: name them too
            RETURN QUERY SELECT i, 'UNAVAILABLE'::text, b.s, NULL::numeric, NULL::timestamptz,
                                0, 0, NULL::text
                           FROM (SELECT l.s FROM jsonb_array_elements_text(v_lost -> i::text)
                                                 AS l (s)
                                 UNION
                                 SELECT ss.seat_id FROM show_seats ss
                                  WHERE ss.show_id = p_show AND ss.seat_id = ANY (v_mine)
                                    AND NOT (ss.status = 'AVAILABLE'
                                             OR (ss.status = 'LOCKED'
                                                 AND ss.locked_until <= clock_timestamp()))
                                ) AS b (s)
                          ORDER BY b.s;
        END IF;
    END LOOP;
END $$;
