-- $1 show id: every seat as the operator console shows it, with who holds or booked it.
SELECT ss.seat_id, ss.row_name, ss.row_index, ss.seat_number, ss.seat_type, ss.price,
       CASE WHEN ss.status = 'LOCKED' AND ss.locked_until <= clock_timestamp() THEN 'EXPIRED'
            ELSE ss.status END AS status,
       ss.holder, ss.lock_id, ss.locked_until, l.created_at AS locked_since,
       b.reference AS booking_reference
  FROM show_seats ss
  LEFT JOIN seat_locks l ON l.id = ss.lock_id
  LEFT JOIN bookings b ON b.id = ss.booking_id
 WHERE ss.show_id = $1
 ORDER BY ss.row_index, ss.seat_number
