-- BookingRepository.find_by_reference: $1 booking reference, $2 e-mail: the booking with both
-- (the e-mail compared case-insensitively).
SELECT id, visitor_id, show_id
  FROM bookings
 WHERE reference = $1 AND lower(email) = lower($2)
