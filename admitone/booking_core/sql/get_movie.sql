-- CatalogService.get_movie: one movie by id, for its page.
SELECT id, title, duration_minutes, language, genre, rating, release_date, description, poster_url
  FROM movies
 WHERE id = $1
