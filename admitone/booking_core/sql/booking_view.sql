-- $1 booking id: the booking with its payment, refund and seats (in seating order), the channel
-- its confirmation went out on ('smtp', 'recorded', NULL while not yet sent), and the
-- database clock; no row locks (reads for GET, ticket and the owner check before cancelling).
SELECT b.id, b.reference, b.show_id, b.visitor_id, b.email, b.status, b.amount,
       trim(b.currency) AS currency, b.created_at, b.confirmed_at, b.cancelled_at,
       p.id AS payment_id, p.status AS payment_status,
       r.id AS refund_id, r.amount AS refund_amount, r.status AS refund_status,
       coalesce(seats.ids, ARRAY[]::text[]) AS seat_ids,
       coalesce(seats.prices, ARRAY[]::numeric[]) AS seat_prices,
       clock_timestamp() AS now,
       CASE WHEN b.status = 'CONFIRMED' THEN (
            SELECT n.channel FROM outbox o JOIN notifications n ON n.outbox_id = o.id
             WHERE o.topic = 'booking.confirmed' AND o.payload->>'bookingId' = b.id::text
             ORDER BY n.id DESC LIMIT 1) END AS ticket_channel
  FROM bookings b
  LEFT JOIN payments p ON p.booking_id = b.id
  LEFT JOIN refunds r ON r.payment_id = p.id
  LEFT JOIN LATERAL (
        SELECT array_agg(bs.seat_id ORDER BY ss.row_index, ss.seat_number) AS ids,
               array_agg(bs.price ORDER BY ss.row_index, ss.seat_number) AS prices
          FROM booking_seats bs
          JOIN show_seats ss ON ss.show_id = bs.show_id AND ss.seat_id = bs.seat_id
         WHERE bs.booking_id = b.id
       ) seats ON true
 WHERE b.id = $1
