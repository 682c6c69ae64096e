-- CheckoutRepository.insert_booking_seats (one row per seat): $1 booking id, $2 show id,
-- $3 seat id, $4 price.
INSERT INTO booking_seats (booking_id, show_id, seat_id, price)
VALUES ($1, $2, $3, $4)
