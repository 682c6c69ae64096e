-- RoomRepository.revocations: a show's revocations that still matter.
SELECT visitor_id, revoked_until
FROM token_revocations
WHERE show_id = $1 AND revoked_until > now()
