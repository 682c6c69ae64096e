-- add_audit (of every repository; one row per entry): $1 actor, $2 entity, $3 entity id,
-- $4 action, $5 data (JSON text).
INSERT INTO audit_log (actor, entity, entity_id, action, data)
VALUES ($1, $2, $3, $4, $5::jsonb)
