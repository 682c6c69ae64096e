-- A checkout's rows held in one call (issue 14), as migration 0030 does for a settlement:
-- the seats of the visitor's lock (show_seats in seat_id order), then the lock itself with its
-- show's currency and seat limit, the booking still live on it and the database clock, then
-- the buyer's advisory keys (e-mail first, then instrument: the keys and the order of the
-- statement they were taken by before). These were three round trips. The counts of
-- sql/checkout_facts.sql stay a statement of their own, after this call, so that they read a
-- snapshot taken once the buyer's keys are held. Python judges what it read, as before.
--
-- No row: the lock is unknown or another visitor's (no row is held then). Otherwise one row:
-- the seats as parallel arrays (st_*, in seat_id order), the lock (lk_*), live_booking, now.
CREATE FUNCTION admitone_checkout_hold(
    p_lock uuid, p_visitor text, p_email_key text, p_instrument_key text
) RETURNS TABLE (
    st_ids text[], st_prices numeric[], st_statuses text[], st_lock_ids uuid[],
    st_locked_until timestamptz[],
    lk_id uuid, lk_show uuid, lk_status text, lk_expires_at timestamptz, lk_seat_ids text[],
    lk_currency text, lk_max_seats_per_visitor integer, live_booking uuid, now timestamptz
) LANGUAGE plpgsql AS $$
BEGIN
    SELECT coalesce(array_agg(s.seat_id ORDER BY s.seat_id), '{}'),
           coalesce(array_agg(s.price ORDER BY s.seat_id), '{}'),
           coalesce(array_agg(s.status ORDER BY s.seat_id), '{}'),
           coalesce(array_agg(s.lock_id ORDER BY s.seat_id), '{}'),
           coalesce(array_agg(s.locked_until ORDER BY s.seat_id), '{}')
      INTO st_ids, st_prices, st_statuses, st_lock_ids, st_locked_until
      FROM (SELECT ss.seat_id, ss.price, ss.status, ss.lock_id, ss.locked_until
              FROM show_seats ss
              JOIN seat_locks l ON l.show_id = ss.show_id AND ss.seat_id = ANY (l.seat_ids)
             WHERE l.id = p_lock AND l.visitor_id = p_visitor
             ORDER BY ss.seat_id
               FOR UPDATE OF ss) AS s;

    SELECT l.id, l.show_id, l.status, l.expires_at, l.seat_ids, sh.currency::text,
           sh.max_seats_per_visitor,
           (SELECT b.id FROM bookings b
             WHERE b.lock_id = l.id AND b.status IN ('PENDING', 'CONFIRMED')),
           clock_timestamp()
      INTO lk_id, lk_show, lk_status, lk_expires_at, lk_seat_ids, lk_currency,
           lk_max_seats_per_visitor, live_booking, now
      FROM seat_locks l
      JOIN shows sh ON sh.id = l.show_id
     WHERE l.id = p_lock AND l.visitor_id = p_visitor
       FOR UPDATE OF l;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    -- Checkouts of one buyer of one show run one at a time from here to commit, so two at
    -- once cannot both pass the seat limit; the e-mail key before the instrument key, so no
    -- two checkouts wait on each other in a cycle.
    PERFORM pg_advisory_xact_lock(hashtextextended(lk_show::text || '/buyer/' || p_email_key, 0));
    IF p_instrument_key IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(
            hashtextextended(lk_show::text || '/buyer/' || p_instrument_key, 0));
    END IF;
    RETURN NEXT;
END
$$;
