-- CatalogService.list_cities: each city with a theater (one spelling per city, ignoring case)
-- and the time zone most of its theaters keep, by name.
SELECT min(city) AS city,
       mode() WITHIN GROUP (ORDER BY timezone) AS timezone
  FROM theaters
 GROUP BY lower(city)
 ORDER BY lower(min(city))
 LIMIT 500
