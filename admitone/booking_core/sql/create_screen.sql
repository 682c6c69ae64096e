-- CatalogService.create_screen: $1 theater id, $2 name, $3 number of seats, $4 layout (JSON
-- text): the new screen's id (its seats are copied in after it).
INSERT INTO screens (theater_id, name, total_seats, layout)
VALUES ($1, $2, $3, $4::jsonb)
RETURNING id
