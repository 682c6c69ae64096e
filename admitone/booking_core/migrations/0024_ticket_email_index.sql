-- Whether a booking's confirmation was e-mailed: the booking view (sql/booking_view.sql) reads
-- the notification of the booking's booking.confirmed outbox row, found by this index rather
-- than by scanning the outbox on every poll of the confirmation page.
CREATE INDEX outbox_booking_confirmed_idx ON outbox ((payload->>'bookingId'))
 WHERE topic = 'booking.confirmed';
