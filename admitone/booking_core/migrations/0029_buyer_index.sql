-- A buyer's bookings of one show by their e-mail key (issue 14). Every checkout counts the
-- buyer's live seats and recent bookings of the show (sql/checkout_facts.sql); with only
-- (show_id, visitor_id) and (email_key, created_at) to choose from, the planner read every
-- booking of the show and filtered them by e-mail, so a checkout cost more the more the show
-- had sold (1.5 ms at 2,700 bookings, in auto_explain, during the complete-booking benchmark).
CREATE INDEX bookings_show_email_idx ON bookings (show_id, email_key) WHERE email_key IS NOT NULL;
