-- BookingRepository.revoke_ticket: $1 show id, $2 booking id, $3 ticket id, $4 reason: add the
-- booking's ticket to the show's revoked list and raise the list's version by one (the show's
-- list row is the lock that orders revocations of one show). Returns the new version.
WITH bumped AS (
    INSERT INTO ticket_revocation_lists AS l (show_id, version)
    VALUES ($1, 1)
    ON CONFLICT (show_id) DO UPDATE
        SET version = l.version + 1, updated_at = clock_timestamp()
    RETURNING version
)
INSERT INTO revoked_tickets (ticket_id, show_id, booking_id, version, reason)
SELECT $3, $1, $2, version, $4 FROM bumped
RETURNING version
