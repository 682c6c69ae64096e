-- CatalogService.create_theater: $1 name, $2 city, $3 address, $4 IANA time zone: the new theater.
INSERT INTO theaters (name, city, address, timezone)
VALUES ($1, $2, $3, $4)
RETURNING id, name, city, address, timezone
