-- TicketService.revocation_list: $1 show id: the show's revoked-list version and when it last
-- changed (no row while nothing is revoked), with every revoked ticket id in revocation order.
SELECT l.version, l.updated_at,
       coalesce((SELECT array_agg(r.ticket_id::text ORDER BY r.version, r.ticket_id)
                   FROM revoked_tickets r WHERE r.show_id = l.show_id), ARRAY[]::text[]) AS ticket_ids
  FROM ticket_revocation_lists l
 WHERE l.show_id = $1
