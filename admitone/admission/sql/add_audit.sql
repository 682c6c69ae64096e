-- RoomRepository's audit rows: $1 actor, $2 entity, $3 entity id, $4 action, $5 data (JSON
-- text): who changed which room or visitor, in the same transaction as the change.
INSERT INTO audit_log (actor, entity, entity_id, action, data)
VALUES ($1, $2, $3, $4, $5::jsonb)
