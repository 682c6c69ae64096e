-- DrawRepository.record_drawn: $1 show, $2 when, $3 first ticket, $4 entry ids in drawn order:
-- the draw as Redis recorded it at startsAt, kept once.
UPDATE queue_draws SET drawn_at = $2, first_ticket = $3, entries = $4
WHERE show_id = $1 AND drawn_at IS NULL
