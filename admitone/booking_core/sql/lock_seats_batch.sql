-- SeatLockRepository.lock_batch: $1 show, $2 lock seconds, $3 network cap, then the requests
-- as parallel arrays ($4 visitors, $5 lock ids, $6 networks, $7 devices) and their seats ($8
-- the request number of each seat, from 1; $9 the seat ids): migration 0028's batch.
SELECT * FROM admitone_lock_seats_batch($1, $2, $3, $4, $5, $6, $7, $8, $9)
