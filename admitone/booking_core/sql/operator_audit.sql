-- $1 show id as text (NULL: every show), $2 limit: operator changes, newest first.
SELECT id, at, actor, entity, entity_id, action, data
  FROM audit_log
 WHERE entity IN ('waiting_room', 'show', 'visitor')
   AND ($1::text IS NULL OR entity_id = $1 OR entity_id LIKE $1 || '/%')
 ORDER BY at DESC, id DESC
 LIMIT $2
