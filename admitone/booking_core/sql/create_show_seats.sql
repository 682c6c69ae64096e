-- CatalogService.create_show: $1 show id, $2 screen id, $3 base price: one AVAILABLE row per
-- seat of the screen, priced by its row's multiplier.
INSERT INTO show_seats (show_id, seat_id, row_name, row_index, seat_number, seat_type, price)
SELECT $1, s.seat_id, s.row_name, s.row_index, s.seat_number, s.seat_type,
       round($3::numeric * s.price_multiplier, 2)
  FROM seats s
 WHERE s.screen_id = $2
