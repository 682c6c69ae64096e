-- CheckoutRepository.checkout_facts: $1 show id, $2 e-mail key, $3 instrument key (NULL: none).
-- Checkouts of one buyer of one show run one at a time from here to commit, so two at once
-- cannot both pass the seat limit. The e-mail key is always taken before the instrument key
-- (the select list is evaluated in order): no two checkouts wait on each other in a cycle. A
-- statement of its own: the counts that follow must be read after the locks are held.
SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || '/buyer/' || $2, 0)),
       CASE WHEN $3::text IS NOT NULL
            THEN pg_advisory_xact_lock(hashtextextended($1::uuid::text || '/buyer/' || $3, 0))
       END
