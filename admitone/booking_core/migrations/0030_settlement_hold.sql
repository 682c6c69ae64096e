-- The rows of one settlement held in one call (issue 14). A settlement first holds, in the one
-- lock order (payments, bookings, show_seats by seat_id, seat_locks), the payment, then records
-- the provider's event once, then holds the booking, its seats and its lock; Python decides on
-- what it read (booking_core/payments/decisions.py) and writes. Those five reads were five
-- round trips, each a write and a wake-up of the worker and of the server: now one call does
-- them, in the same order and with the same statements as before, and the decision stays in
-- Python.
--
-- No row: the payment is unknown. duplicate: the event was recorded before (another delivery
-- of it), and nothing but the payment is held. Otherwise one row: the payment (pay_*), the
-- booking (bk_*), its seats in seat_id order as parallel arrays (st_*), the lock (lk_*, with
-- its granted seat_ids) and the database clock read once every row is held (held_at).
-- p_event NULL: no event to record (a settlement that is not a provider's report).
CREATE FUNCTION admitone_settlement_hold(
    p_payment uuid, p_event text, p_status text, p_provider text
) RETURNS TABLE (
    duplicate boolean,
    pay_id uuid, pay_booking uuid, pay_amount numeric, pay_currency text, pay_status text,
    pay_expires_at timestamptz, pay_transaction text,
    bk_id uuid, bk_reference text, bk_show uuid, bk_visitor text, bk_lock uuid,
    bk_status text, bk_amount numeric, bk_currency text, bk_review boolean,
    st_ids text[], st_statuses text[], st_lock_ids uuid[], st_locked_until timestamptz[],
    lk_id uuid, lk_status text, lk_expires_at timestamptz, lk_seat_ids text[],
    held_at timestamptz
) LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.id, p.booking_id, p.amount, p.currency::text, p.status, p.expires_at,
           p.gateway_transaction_id
      INTO pay_id, pay_booking, pay_amount, pay_currency, pay_status, pay_expires_at,
           pay_transaction
      FROM payments p
     WHERE p.id = p_payment
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    duplicate := false;
    IF p_event IS NOT NULL THEN
        -- A duplicate delivered meanwhile waits on this row's lock for the first delivery's
        -- transaction, then inserts nothing.
        INSERT INTO webhook_events (event_id, payment_id, status, provider)
        VALUES (p_event, p_payment, p_status, p_provider)
        ON CONFLICT (event_id) DO NOTHING;
        IF NOT FOUND THEN
            duplicate := true;
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    SELECT b.id, b.reference, b.show_id, b.visitor_id, b.lock_id, b.status, b.amount,
           b.currency::text, b.review
      INTO bk_id, bk_reference, bk_show, bk_visitor, bk_lock, bk_status, bk_amount,
           bk_currency, bk_review
      FROM bookings b
     WHERE b.id = pay_booking
       FOR UPDATE;

    -- The booking's seats by their whole key (the ids read first, as an array), in seat_id
    -- order.
    SELECT coalesce(array_agg(s.seat_id ORDER BY s.seat_id), '{}'),
           coalesce(array_agg(s.status ORDER BY s.seat_id), '{}'),
           coalesce(array_agg(s.lock_id ORDER BY s.seat_id), '{}'),
           coalesce(array_agg(s.locked_until ORDER BY s.seat_id), '{}')
      INTO st_ids, st_statuses, st_lock_ids, st_locked_until
      FROM (SELECT ss.seat_id, ss.status, ss.lock_id, ss.locked_until
              FROM show_seats ss
             WHERE ss.show_id = bk_show
               AND ss.seat_id = ANY (ARRAY(SELECT bs.seat_id FROM booking_seats bs
                                            WHERE bs.booking_id = bk_id))
             ORDER BY ss.seat_id
               FOR UPDATE) AS s;

    SELECT l.id, l.status, l.expires_at, l.seat_ids, clock_timestamp()
      INTO lk_id, lk_status, lk_expires_at, lk_seat_ids, held_at
      FROM seat_locks l
     WHERE l.id = bk_lock
       FOR UPDATE;
    RETURN NEXT;
END
$$;
