-- SandboxGateway.complete: $1 payment id: the booking the payment pays for, and who made it,
-- so that only that fan's own token may finish the sandbox charge.
SELECT b.id AS booking_id, b.visitor_id, b.show_id
  FROM payments p
  JOIN bookings b ON b.id = p.booking_id
 WHERE p.id = $1
