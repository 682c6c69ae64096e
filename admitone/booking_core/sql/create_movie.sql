-- CatalogService.create_movie: $1 title, $2 duration in minutes, $3 language, $4 genre,
-- $5 rating, $6 release date, $7 description, $8 poster URL: the new movie.
INSERT INTO movies (title, duration_minutes, language, genre, rating, release_date, description,
                    poster_url)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id, title, duration_minutes, language, genre, rating, release_date, description,
          poster_url
