-- $1 payment id, $2 transaction id, $3 amount, $4 currency, $5 method, $6 return URL: register a
-- charge once; registering it again keeps the first (create_charge is idempotent per payment).
INSERT INTO sandbox_charges (payment_id, transaction_id, amount, currency, method, return_url)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (payment_id) DO NOTHING
