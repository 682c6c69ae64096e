-- DrawRepository.get: $1 show: its pre-queue draw (seed secret until drawn_at is set).
SELECT seed, commitment, committed_at, drawn_at, first_ticket, entries
FROM queue_draws
WHERE show_id = $1
