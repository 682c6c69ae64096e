"""PostgreSQL access for payment settlement, reconciliation and refunds.

Methods take the connection of the caller's transaction: :class:`PaymentService` owns the
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

Connection = asyncpg.Connection | PoolConnectionProxy
_encode = msgspec.json.Encoder(decimal_format="string").encode


def _json(data: Mapping[str, Any]) -> str:
    return _encode(data).decode()


@translates("PostgreSQL")
class PaymentRepository:
    """The SQL of settlement; nothing here commits."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # Reads under row locks, in lock order ------------------------------------------------

    async def settlement_hold(
        self, conn: Connection, payment_id: uuid.UUID, event_id: str | None, status: str,
        provider: str,
    ) -> asyncpg.Record | None:
        """Payment, event (recorded once), booking, seats and lock held in lock order, in one
        round trip (migration 0030); None for an unknown payment."""
        return await conn.fetchrow(sql("settlement_hold"), payment_id, event_id, status, provider)

    # Writes ------------------------------------------------------------------------------

    async def mark_payment(
        self, conn: Connection, payment_id: uuid.UUID, status: str,
        transaction_id: str | None, now: datetime,
    ) -> None:
        await conn.execute(sql("settlement_mark_payment"), payment_id, status, transaction_id, now)

    async def confirm(
        self, conn: Connection, booking_id: uuid.UUID, *, show_id: uuid.UUID,
        lock_id: uuid.UUID, lock_seats: Sequence[str], now: datetime,
        outbox_payload: Mapping[str, Any],
    ) -> list[str]:
        """CONFIRMED, seats BOOKED and held, lock CONVERTED and the ``booking.confirmed``
        outbox row (``outbox_payload`` plus ``seatIds``), in one statement; the booked seats.
        ``lock_seats``: the lock's ``seat_ids``, the only seats that can carry its id."""
        booked: list[str] = await conn.fetchval(
            sql("settlement_confirm"), booking_id, show_id, lock_id, now, _json(outbox_payload),
            list(lock_seats),
        )
        return list(booked)

    async def fail_booking(self, conn: Connection, booking_id: uuid.UUID, now: datetime) -> bool:
        """PENDING → FAILED; False when the booking was not PENDING."""
        moved = await conn.fetchval(sql("fail_booking"), booking_id, now)
        return bool(moved)

    async def free_seats(
        self, conn: Connection, show_id: uuid.UUID, lock_id: uuid.UUID,
        lock_seats: Sequence[str], now: datetime,
    ) -> list[str]:
        """The seats among ``lock_seats`` (the lock's ``seat_ids``) it still holds, freed."""
        rows = await conn.fetch(
            sql("settlement_free_seats"), show_id, lock_id, now, list(lock_seats)
        )
        return sorted(row["seat_id"] for row in rows)

    async def mark_lock(
        self, conn: Connection, lock_id: uuid.UUID, status: str, now: datetime
    ) -> bool:
        """An ACTIVE lock takes ``status``; False when it was no longer active."""
        moved = await conn.fetchval(sql("mark_lock"), lock_id, status, now)
        return bool(moved)

    async def insert_refund(
        self, conn: Connection, payment_id: uuid.UUID, booking_id: uuid.UUID,
        amount: Decimal, reason: str,
    ) -> uuid.UUID | None:
        refund: uuid.UUID | None = await conn.fetchval(
            sql("settlement_insert_refund"), payment_id, booking_id, amount, reason
        )
        return refund

    async def refund_of(self, conn: Connection, payment_id: uuid.UUID) -> uuid.UUID | None:
        refund: uuid.UUID | None = await conn.fetchval(
            "SELECT id FROM refunds WHERE payment_id = $1", payment_id
        )
        return refund

    async def add_outbox(self, conn: Connection, topic: str, payload: Mapping[str, Any]) -> None:
        await conn.execute(sql("add_outbox"), topic, _json(payload))

    async def add_audit(
        self, conn: Connection, actor: str, entries: list[tuple[str, str, str, Mapping[str, Any]]]
    ) -> None:
        """Audit rows ``(entity, entity_id, action, data)`` by ``actor``."""
        await conn.executemany(
            sql("add_audit"),
            [(actor, entity, entity_id, action, _json(data))
             for entity, entity_id, action, data in entries],
        )

    # Reconciliation and refunds (outside settlement transactions) --------------------------

    async def due_payments(self, after_seconds: int, limit: int) -> list[asyncpg.Record]:
        return await self.pool.fetch(sql("reconcile_due_payments"), after_seconds, limit)

    async def refund_row(self, refund_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "SELECT r.id, r.payment_id, r.booking_id, r.amount, r.reason, r.status, p.gateway"
            " FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = $1",
            refund_id,
        )

    async def count_refund_attempt(self, refund_id: uuid.UUID, error: str) -> int:
        """One more try at sending the refund, with its error; the number of tries so far."""
        attempts: int = await self.pool.fetchval(
            "UPDATE refunds SET attempts = attempts + 1, last_error = $2 WHERE id = $1"
            " RETURNING attempts",
            refund_id, error,
        )
        return attempts

    async def mark_refund(
        self, conn: Connection, refund_id: uuid.UUID, status: str
    ) -> asyncpg.Record | None:
        """PENDING → ``status``; None when another sender got there first."""
        return await conn.fetchrow(sql("refunds_mark"), refund_id, status)
