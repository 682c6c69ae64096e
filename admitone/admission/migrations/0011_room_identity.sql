-- One place per person: a room may let only fans with a verified identity (an e-mail code, or
-- a booking frontend's signed account header; admission/identity.py) into its queue.
ALTER TABLE waiting_rooms ADD COLUMN identity_required boolean NOT NULL DEFAULT false;
