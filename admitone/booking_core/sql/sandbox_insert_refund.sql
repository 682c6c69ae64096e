-- SandboxGateway.refund: $1 refund id, $2 payment id, $3 amount: the sandbox pays a refund back
-- (once per refund id: the primary key refuses a second one).
INSERT INTO sandbox_refunds (refund_id, payment_id, amount) VALUES ($1, $2, $3)
