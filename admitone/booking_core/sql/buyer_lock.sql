-- CheckoutRepository.buyer_seats: $1 show id, $2 a buyer key (policy.email_key or
-- instrument_key). Checkouts of one buyer of one show run one at a time from here to commit,
-- so two at once cannot both pass the seat limit (an e-mail key is always taken before an
-- instrument key: no two checkouts wait on each other in a cycle).
SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || '/buyer/' || $2, 0))
