-- BookingRepository.release_booked_seats, after release_booked_seats.sql: $1 booking id: the
-- booking's seat rows no longer hold their seats.
UPDATE booking_seats SET held = false WHERE booking_id = $1
