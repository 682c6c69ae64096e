-- $1 booking id: the payment's booking, held second.
SELECT id, reference, show_id, visitor_id, lock_id, status, amount, currency::text AS currency,
       review
  FROM bookings
 WHERE id = $1
   FOR UPDATE
