-- Real payment providers beside the sandbox: Razorpay and Stripe.
--
-- A payment remembers the provider object that takes its money (a Razorpay Order, a Stripe
-- Checkout Session) and where the fan pays it, and the Idempotency-Key of the checkout that
-- created it, which is carried through to the provider.
ALTER TABLE payments
    ADD COLUMN provider_order_id text,
    ADD COLUMN provider_pay_url  text,
    ADD COLUMN idempotency_key   text;
CREATE UNIQUE INDEX payments_provider_order_idx ON payments (gateway, provider_order_id)
    WHERE provider_order_id IS NOT NULL;

-- A refund the provider refused is tried again with backoff (by the outbox row that asked for
-- it) up to a bound, then left FAILED with the provider's answer for an operator.
ALTER TABLE refunds
    ADD COLUMN provider_refund_id text,
    ADD COLUMN attempts           integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error         text;
-- A success for another amount or currency than the booking's is refunded, never confirmed.
ALTER TABLE refunds DROP CONSTRAINT refunds_reason_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_reason_check
    CHECK (reason IN ('CANCELLATION', 'SEATS_LOST', 'DUPLICATE_PAYMENT', 'AMOUNT_MISMATCH'));
CREATE INDEX refunds_failed_idx ON refunds (created_at) WHERE status = 'FAILED';

-- A provider's events name its own objects; the payment is found from them.
ALTER TABLE webhook_events ADD COLUMN provider text NOT NULL DEFAULT 'SANDBOX';
