-- CheckoutRepository.checkout_hold: $1 lock id, $2 visitor id, $3 e-mail key, $4 instrument
-- key (NULL: none): the lock's seats, the lock and the buyer's keys held in lock order, in one
-- call (migration 0031 says what each column is). No row: the lock is not the visitor's.
SELECT * FROM admitone_checkout_hold($1, $2, $3, $4)
