"""Helpers of the payment-provider tests: refunds and audit rows straight from PostgreSQL,
and running the outbox until a refund has been tried ``n`` times."""

from __future__ import annotations

import uuid

import asyncpg

from admitone.runtime import Services
from tests.integration.payment_support import Checkout

RAZORPAY_WEBHOOK = "/api/v1/payments/webhook/razorpay"
STRIPE_WEBHOOK = "/api/v1/payments/webhook/stripe"


async def refund_of(services: Services, checkout: Checkout) -> asyncpg.Record | None:
    return await services.pool.fetchrow(
        "SELECT id, amount, reason, status, attempts, last_error, provider_refund_id"
        " FROM refunds WHERE payment_id = $1", uuid.UUID(checkout.payment_id),
    )


async def audit_actions(services: Services, entity_id: str) -> list[str]:
    rows = await services.pool.fetch(
        "SELECT action FROM audit_log WHERE entity_id = $1 ORDER BY id", entity_id
    )
    return [row["action"] for row in rows]


async def reference_of(services: Services, checkout: Checkout) -> str:
    reference: str = await services.pool.fetchval(
        "SELECT reference FROM bookings WHERE id = $1", uuid.UUID(checkout.booking_id)
    )
    return reference


async def run_refund_outbox(services: Services, checkout: Checkout) -> None:
    """Make the checkout's ``refund.requested`` row due now and run the outbox once (the
    backoff between tries is the outbox's own; tests skip the wait, not the retry)."""
    await services.pool.execute(
        "UPDATE outbox SET next_try_at = clock_timestamp() WHERE topic = 'refund.requested'"
        " AND payload->>'paymentId' = $1 AND sent_at IS NULL", checkout.payment_id,
    )
    await services.outbox.run_once()


async def age_payment(services: Services, checkout: Checkout) -> None:
    """Make the payment due for reconciliation, as if its webhook were long overdue."""
    await services.pool.execute(
        "UPDATE payments SET initiated_at = initiated_at - interval '1 hour' WHERE id = $1",
        uuid.UUID(checkout.payment_id),
    )
