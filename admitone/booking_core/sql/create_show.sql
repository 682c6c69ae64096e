-- CatalogService.create_show: $1 movie id, $2 screen id, $3 show time, $4 base price,
-- $5 currency, $6 most seats one visitor may hold: the new show (its seats follow in
-- create_show_seats.sql).
INSERT INTO shows (movie_id, screen_id, show_time, base_price, currency, max_seats_per_visitor)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, movie_id, screen_id, show_time, base_price, currency, status, max_seats_per_visitor
