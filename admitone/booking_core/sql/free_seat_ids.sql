-- $1 show id: the seats a lock could take now (an expired lock's seats count as free).
SELECT seat_id
  FROM show_seats
 WHERE show_id = $1
   AND (status = 'AVAILABLE' OR (status = 'LOCKED' AND locked_until <= clock_timestamp()))
