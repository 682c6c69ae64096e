-- RoomRepository.add_revocation: remember that a visitor's tokens are revoked (until when).
INSERT INTO token_revocations (show_id, visitor_id, revoked_until, actor)
VALUES ($1, $2, $3, $4)
ON CONFLICT (show_id, visitor_id) DO UPDATE SET
    revoked_until = GREATEST(token_revocations.revoked_until, EXCLUDED.revoked_until),
    revoked_at = now(),
    actor = EXCLUDED.actor
