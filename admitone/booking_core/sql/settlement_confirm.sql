-- PaymentRepository.confirm: settlement's CONFIRM once the payment is SUCCESS (an earlier
-- statement: the bookings_confirmed_paid trigger must see it) and every row is held.
-- $1 booking id, $2 show id, $3 lock id, $4 now, $5 the booking.confirmed outbox payload (JSON)
-- without its seatIds, $6 the lock's seat ids (seat_locks.seat_ids: the only seats that can
-- carry its lock id, probed by their whole key rather than by scanning the show for the lock
-- id, which no index serves): the booking CONFIRMED, the lock's seats BOOKED for it (the holder stays
-- the visitor; the lock columns are cleared, as show_seats_state_whole wants), its seat rows
-- holding their seats, the lock CONVERTED, and the outbox row with the booked seat ids. Returns
-- the booked seat ids, in order. One statement: none of these rows is a key another one checks.
WITH booking AS (
    UPDATE bookings
       SET status = 'CONFIRMED', confirmed_at = $4, updated_at = $4
     WHERE id = $1
), seats AS (
    UPDATE show_seats
       SET status = 'BOOKED', booking_id = $1, lock_id = NULL, locked_until = NULL,
           version = version + 1, updated_at = $4
     WHERE show_id = $2 AND seat_id = ANY ($6::text[]) AND lock_id = $3 AND status = 'LOCKED'
    RETURNING seat_id
), held AS (
    UPDATE booking_seats SET held = true WHERE booking_id = $1
), lock AS (
    UPDATE seat_locks
       SET status = 'CONVERTED', updated_at = $4
     WHERE id = $3 AND status = 'ACTIVE'
), booked AS (
    SELECT coalesce(array_agg(seat_id ORDER BY seat_id), '{}') AS seat_ids FROM seats
), outbox_row AS (
    INSERT INTO outbox (topic, payload)
    SELECT 'booking.confirmed', $5::jsonb || jsonb_build_object('seatIds', to_jsonb(seat_ids))
      FROM booked
)
SELECT seat_ids FROM booked
