"""PostgreSQL access for reading, cancelling and looking up bookings, and for the outbox.

Methods that change rows take the connection of the caller's transaction: the services own the
transaction and the lock order (payments → bookings → show_seats by seat_id → seat_locks).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from admitone.db.sql import sql_folder
from admitone.outages import translates

sql = sql_folder("admitone.booking_core")

_encode = msgspec.json.Encoder(decimal_format="string").encode
# A transaction's connection: a pool hands out proxies.
Connection = asyncpg.Connection | PoolConnectionProxy


def to_json(data: Mapping[str, Any]) -> str:
    """JSON text for a jsonb parameter (decimals as strings, times as RFC 3339)."""
    return _encode(data).decode()


@translates("PostgreSQL")
class BookingRepository:
    """The SQL of the booking routes and the outbox worker; nothing here commits."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # Reads without row locks -------------------------------------------------------------

    async def booking_view(
        self, booking_id: uuid.UUID, conn: Connection | None = None
    ) -> asyncpg.Record | None:
        return await (conn or self.pool).fetchrow(sql("booking_view"), booking_id)

    async def find_by_reference(self, reference: str, email: str) -> asyncpg.Record | None:
        """The booking with this reference and e-mail (compared case-insensitively)."""
        return await self.pool.fetchrow(sql("find_by_reference"), reference, email)

    # Cancellation, in lock order -----------------------------------------------------------

    async def lock_payment(
        self, conn: Connection, booking_id: uuid.UUID
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(sql("lock_payment"), booking_id)

    async def lock_booking(
        self, conn: Connection, booking_id: uuid.UUID
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(sql("lock_booking_for_cancel"), booking_id)

    async def lock_booked_seats(
        self, conn: Connection, show_id: uuid.UUID, booking_id: uuid.UUID
    ) -> list[str]:
        rows = await conn.fetch(sql("lock_booked_seats"), show_id, booking_id)
        return [row["seat_id"] for row in rows]

    async def refund_of_payment(
        self, conn: Connection, payment_id: uuid.UUID
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT id, amount, status FROM refunds WHERE payment_id = $1", payment_id
        )

    async def release_booked_seats(
        self, conn: Connection, show_id: uuid.UUID, booking_id: uuid.UUID, now: datetime
    ) -> list[str]:
        rows = await conn.fetch(sql("release_booked_seats"), show_id, booking_id, now)
        await conn.execute(sql("release_booking_seats"), booking_id)
        return sorted(row["seat_id"] for row in rows)

    async def cancel_booking(
        self, conn: Connection, booking_id: uuid.UUID, now: datetime
    ) -> None:
        await conn.execute(sql("cancel_booking"), booking_id, now)

    async def revoke_ticket(
        self, conn: Connection, show_id: uuid.UUID, booking_id: uuid.UUID, ticket: uuid.UUID,
        reason: str,
    ) -> int:
        """Put the booking's ticket on the show's revoked list; the list's new version."""
        version: int = await conn.fetchval(
            sql("revoke_ticket"), show_id, booking_id, ticket, reason
        )
        return version

    async def mark_payment_refunded(
        self, conn: Connection, payment_id: uuid.UUID, now: datetime
    ) -> bool:
        """SUCCESS → REFUNDED, for a refund of the whole payment."""
        moved = await conn.fetchval(sql("mark_payment_refunded"), payment_id, now)
        return bool(moved)

    async def insert_refund(
        self, conn: Connection, payment_id: uuid.UUID, booking_id: uuid.UUID,
        amount: Decimal, reason: str,
    ) -> uuid.UUID:
        refund: uuid.UUID = await conn.fetchval(
            sql("insert_refund"), payment_id, booking_id, amount, reason
        )
        return refund

    async def add_outbox(
        self, conn: Connection, topic: str, payload: Mapping[str, Any]
    ) -> None:
        await conn.execute(sql("add_outbox"), topic, to_json(payload))

    async def add_audit(
        self, conn: Connection, actor: str,
        entries: Sequence[tuple[str, str, str, Mapping[str, Any]]],
    ) -> None:
        """Audit rows ``(entity, entity_id, action, data)`` by ``actor``."""
        await conn.executemany(
            sql("add_audit"),
            [(actor, entity, entity_id, action, to_json(data))
             for entity, entity_id, action, data in entries],
        )

    # Outbox ----------------------------------------------------------------------------------

    async def claim_outbox(self, conn: Connection, limit: int) -> list[asyncpg.Record]:
        return await conn.fetch(sql("claim_outbox_batch"), limit)

    async def mark_outbox_sent(self, conn: Connection, outbox_id: int) -> None:
        await conn.execute(sql("mark_outbox_sent"), outbox_id)

    async def mark_outbox_failed(
        self, conn: Connection, outbox_id: int, error: str, retry_in_seconds: float
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(sql("mark_outbox_failed"), outbox_id, error, retry_in_seconds)

    async def add_notification(
        self, conn: Connection, outbox_id: int, *, channel: str, recipient: str,
        subject: str, body: str,
    ) -> None:
        await conn.execute(
            sql("add_notification"), outbox_id, channel, recipient, subject, body
        )
