-- RoomRepository.commit_draw: $1 show, $2 seed, $3 its SHA-256 (hex): a RANDOM_PREQUEUE room's
-- draw seed, made once (a room that has one keeps it).
INSERT INTO queue_draws (show_id, seed, commitment) VALUES ($1, $2, $3)
ON CONFLICT (show_id) DO NOTHING
