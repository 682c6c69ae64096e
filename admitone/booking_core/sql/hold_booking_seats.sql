-- PaymentRepository.book_seats, after settlement_book_seats.sql: $1 booking id: the booking's
-- seat rows hold their seats.
UPDATE booking_seats SET held = true WHERE booking_id = $1
