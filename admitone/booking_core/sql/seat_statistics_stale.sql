-- $1 seats just added: whether show_seats' planner statistics are older than that many rows
-- can excuse (never gathered, or the new seats are more than a tenth of what they counted, the
-- share at which autovacuum would analyze it, though only within a minute). Without them the
-- planner takes a show for a few rows and reaches a booking's seats by scanning the show's.
SELECT c.reltuples < 0 OR $1 > 0.1 * c.reltuples
  FROM pg_class c
 WHERE c.oid = 'show_seats'::regclass
