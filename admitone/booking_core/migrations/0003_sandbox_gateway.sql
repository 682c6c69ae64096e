-- The sandbox payment gateway: a pretend payment service provider bundled with admitone
-- (README, "API": the sandbox routes). Its tables are the provider's own books, not the
-- booking core's: no foreign keys into payments, just as a real provider knows our payment ids
-- only as references we sent it.

CREATE TABLE sandbox_charges (
    payment_id     uuid PRIMARY KEY,
    transaction_id text NOT NULL UNIQUE,
    amount         numeric(10, 2) NOT NULL CHECK (amount >= 0),
    currency       char(3) NOT NULL,
    method         text NOT NULL,
    return_url     text NOT NULL,
    status         text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCESS', 'FAILED')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz
);

-- One row per refund id, so a refund sent twice is recorded once.
CREATE TABLE sandbox_refunds (
    refund_id  uuid PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES sandbox_charges (payment_id),
    amount     numeric(10, 2) NOT NULL CHECK (amount >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_refunds_payment_idx ON sandbox_refunds (payment_id);
