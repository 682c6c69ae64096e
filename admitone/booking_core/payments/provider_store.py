"""PostgreSQL side of the provider adapters: which Razorpay Order or Stripe Checkout Session
belongs to which payment, refunds as the provider knows them, events that change no state.

The adapters call it outside settlement transactions (one statement each); the writes that
belong to a settlement stay in :class:`PaymentRepository`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
import msgspec

from admitone.db.sql import sql_folder
from admitone.outages import translates

sql = sql_folder("admitone.booking_core")

_encode = msgspec.json.Encoder(decimal_format="string").encode


def parse_uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@translates("PostgreSQL")
class ProviderStore:
    """The SQL of the provider adapters."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def charge(self, payment_id: str) -> asyncpg.Record | None:
        """The payment with its booking's reference and e-mail (``provider_charge.sql``)."""
        pid = parse_uuid(payment_id)
        return None if pid is None else await self.pool.fetchrow(sql("provider_charge"), pid)

    async def set_order(self, payment_id: str, order_id: str, pay_url: str | None) -> str:
        """Remember the provider's order (session) of a payment; the first one stays when two
        checkouts of the same payment raced. Returns the order id kept."""
        kept: str = await self.pool.fetchval(
            "UPDATE payments SET provider_order_id = coalesce(provider_order_id, $2),"
            " provider_pay_url = coalesce(provider_pay_url, $3) WHERE id = $1"
            " RETURNING provider_order_id",
            uuid.UUID(payment_id), order_id, pay_url,
        )
        return kept

    async def payment_for_order(self, gateway: str, order_id: str) -> str | None:
        found = await self.pool.fetchval(
            "SELECT id FROM payments WHERE gateway = $1 AND provider_order_id = $2",
            gateway, order_id,
        )
        return None if found is None else str(found)

    async def payment_for_transaction(self, gateway: str, transaction_id: str) -> str | None:
        found = await self.pool.fetchval(
            "SELECT id FROM payments WHERE gateway = $1 AND gateway_transaction_id = $2",
            gateway, transaction_id,
        )
        return None if found is None else str(found)

    async def is_provider_payment(self, gateway: str, payment_id: str) -> bool:
        pid = parse_uuid(payment_id)
        return pid is not None and bool(await self.pool.fetchval(
            "SELECT true FROM payments WHERE id = $1 AND gateway = $2", pid, gateway
        ))

    async def refund(self, refund_id: str) -> asyncpg.Record | None:
        rid = parse_uuid(refund_id)
        return None if rid is None else await self.pool.fetchrow(
            "SELECT id, payment_id, amount, reason, status, provider_refund_id FROM refunds"
            " WHERE id = $1", rid,
        )

    async def refund_of_payment(self, payment_id: str) -> str | None:
        found = await self.pool.fetchval(
            "SELECT id FROM refunds WHERE payment_id = $1", uuid.UUID(payment_id)
        )
        return None if found is None else str(found)

    async def set_provider_refund_id(self, refund_id: str, provider_refund_id: str) -> None:
        await self.pool.execute(
            "UPDATE refunds SET provider_refund_id = $2 WHERE id = $1",
            uuid.UUID(refund_id), provider_refund_id,
        )

    async def refunds(self, status: str, limit: int) -> list[asyncpg.Record]:
        return await self.pool.fetch(sql("list_refunds"), status, limit)

    async def record_event(
        self, provider: str, event_id: str, payment_id: str | None, status: str,
        audit: tuple[str, str, str, Mapping[str, Any]] | None = None,
    ) -> bool:
        """Record an event that changes no payment state (a failed attempt the fan may retry,
        a refund the provider confirms), with its audit row; False for a duplicate."""
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                "INSERT INTO webhook_events (event_id, payment_id, status, provider)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING RETURNING true",
                event_id, parse_uuid(payment_id), status, provider,
            )
            if fresh and audit is not None:
                entity, entity_id, action, data = audit
                await conn.execute(
                    "INSERT INTO audit_log (actor, entity, entity_id, action, data)"
                    " VALUES ('webhook', $1, $2, $3, $4::jsonb)",
                    entity, entity_id, action, _encode(data).decode(),
                )
        return bool(fresh)

    async def confirm_refund(self, refund_id: str, provider_refund_id: str | None) -> bool:
        """The provider says the refund is done: PENDING or FAILED → PROCESSED (a FAILED one
        an operator then made in the provider's dashboard is settled too). False when it was
        PROCESSED already (our own call recorded it)."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE refunds SET status = 'PROCESSED', processed_at = clock_timestamp(),"
                " provider_refund_id = coalesce(provider_refund_id, $2)"
                " WHERE id = $1 AND status IN ('PENDING', 'FAILED')"
                " RETURNING booking_id, payment_id",
                uuid.UUID(refund_id), provider_refund_id,
            )
            if row is None:
                return False
            await conn.execute(
                "INSERT INTO audit_log (actor, entity, entity_id, action, data)"
                " VALUES ('webhook', 'refund', $1, 'PROCESSED', $2::jsonb)",
                refund_id, _encode({"paymentId": str(row["payment_id"]),
                                    "bookingId": str(row["booking_id"]),
                                    "providerRefundId": provider_refund_id}).decode(),
            )
        return True

    async def retry_refund(self, refund_id: str, actor: str) -> asyncpg.Record | None:
        """An operator sends a FAILED refund again: PENDING with its attempts reset, and a new
        ``refund.requested`` outbox row. None when it is not FAILED (or does not exist)."""
        rid = parse_uuid(refund_id)
        if rid is None:
            return None
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE refunds SET status = 'PENDING', attempts = 0, processed_at = NULL"
                " WHERE id = $1 AND status = 'FAILED'"
                " RETURNING id, payment_id, booking_id, amount, reason, last_error",
                rid,
            )
            if row is None:
                return None
            ids = {"refundId": refund_id, "paymentId": str(row["payment_id"]),
                   "bookingId": str(row["booking_id"])}
            await conn.execute(
                "INSERT INTO outbox (topic, payload) VALUES ('refund.requested', $1::jsonb)",
                _encode({**ids, "amount": row["amount"], "reason": row["reason"]}).decode(),
            )
            await conn.execute(
                "INSERT INTO audit_log (actor, entity, entity_id, action, data)"
                " VALUES ($1, 'refund', $2, 'RETRY_REQUESTED', $3::jsonb)",
                actor, refund_id, _encode({**ids, "lastError": row["last_error"]}).decode(),
            )
        return row
