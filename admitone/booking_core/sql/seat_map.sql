-- $1 show id: every seat with the state a fan should see now (an expired lock is AVAILABLE).
SELECT seat_id, row_name, row_index, seat_number, seat_type, price,
       CASE WHEN status = 'LOCKED' AND locked_until <= clock_timestamp() THEN 'AVAILABLE'
            ELSE status END AS status
  FROM show_seats
 WHERE show_id = $1
 ORDER BY row_index, seat_number
