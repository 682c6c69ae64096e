-- SeatInventory.counts: a show's seats by state for the waiting room. An expired lock counts as
-- available (anyone may take it), a live one as locked (it may come back); orders are the
-- confirmed bookings holding seats.
SELECT
    count(*) FILTER (WHERE status = 'AVAILABLE' OR (status = 'LOCKED' AND locked_until <= now()))
        AS available,
    count(*) FILTER (WHERE status = 'LOCKED' AND locked_until > now()) AS locked,
    count(*) FILTER (WHERE status = 'BOOKED') AS booked,
    count(DISTINCT booking_id) AS orders
FROM show_seats
WHERE show_id = $1
