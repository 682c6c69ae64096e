-- PaymentRepository.settlement_hold: $1 payment id, $2 the provider's event id (NULL: none to
-- record), $3 reported status, $4 provider: the settlement's rows held in lock order, in one
-- call (migration 0030 says what each column is). No row: the payment is unknown.
SELECT * FROM admitone_settlement_hold($1, $2, $3, $4)
