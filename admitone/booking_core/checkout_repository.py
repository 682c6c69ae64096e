"""PostgreSQL access for checkout: the Idempotency-Key, the lock it turns into a booking, and
the booking, its seats and its payment.

Every method takes the connection of :class:`CheckoutService`'s transaction, which owns the
lock order: show_seats by seat_id, then seat_locks (what the seat functions of migration 0002
take too). Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from admitone.booking_core.booking_repository import Connection, to_json
from admitone.db.sql import sql_folder

sql = sql_folder("admitone.booking_core")


@dataclass(frozen=True, slots=True)
class BuyerKeys:
    """Who checks out, as the seat limit counts it (``policy``): e-mail key, instrument key
    (None when the checkout named no instrument), and the client's network ('' unknown)."""

    email: str
    instrument: str | None
    network: str = ""


class CheckoutRepository:
    """The SQL of ``POST /api/v1/bookings``."""

    # The Idempotency-Key -----------------------------------------------------------------

    async def claim_idempotency_key(
        self, conn: Connection, visitor_id: str, key: str, request_hash: str
    ) -> bool:
        """True for the first request with this key; False when it was used before."""
        fresh = await conn.fetchval(sql("claim_idempotency_key"), visitor_id, key, request_hash)
        return bool(fresh)

    async def store_response(
        self, conn: Connection, visitor_id: str, key: str, status_code: int, body: str
    ) -> None:
        await conn.execute(sql("store_checkout_response"), visitor_id, key, status_code, body)

    async def stored_response(
        self, conn: Connection, visitor_id: str, key: str
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(sql("stored_checkout_response"), visitor_id, key)

    # The lock, in lock order -------------------------------------------------------------

    async def lock_owner(self, conn: Connection, lock_id: uuid.UUID) -> asyncpg.Record | None:
        """The lock's show and visitor, without a row lock (checked before anything is held)."""
        return await conn.fetchrow(
            "SELECT id, show_id, visitor_id FROM seat_locks WHERE id = $1", lock_id
        )

    async def lock_checkout_seats(
        self, conn: Connection, lock_id: uuid.UUID
    ) -> list[asyncpg.Record]:
        return await conn.fetch(sql("lock_checkout_seats"), lock_id)

    async def lock_checkout_lock(
        self, conn: Connection, lock_id: uuid.UUID
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(sql("lock_checkout_lock"), lock_id)

    async def live_booking_of_lock(
        self, conn: Connection, lock_id: uuid.UUID
    ) -> uuid.UUID | None:
        booking: uuid.UUID | None = await conn.fetchval(sql("live_booking_of_lock"), lock_id)
        return booking

    async def extend_lock_seats(
        self, conn: Connection, lock_id: uuid.UUID, *, until: datetime, now: datetime,
        show_id: uuid.UUID, seat_ids: list[str],
    ) -> None:
        await conn.execute(sql("extend_lock_seats"), lock_id, until, now, show_id, seat_ids)

    async def extend_checkout_lock(
        self, conn: Connection, lock_id: uuid.UUID, until: datetime, now: datetime
    ) -> None:
        await conn.execute(sql("extend_checkout_lock"), lock_id, until, now)

    # The booking -------------------------------------------------------------------------

    async def insert_booking(
        self, conn: Connection, *, reference: str, show_id: uuid.UUID, visitor_id: str,
        lock_id: uuid.UUID, email: str, amount: Decimal, currency: str, buyer: BuyerKeys,
        risk: tuple[int, list[dict[str, Any]], bool],
    ) -> uuid.UUID:
        """A PENDING booking with its buyer keys and ``risk`` (score, reasons, review)."""
        score, reasons, review = risk
        booking: uuid.UUID = await conn.fetchval(
            sql("insert_booking"), reference, show_id, visitor_id, lock_id, email, amount,
            currency, buyer.email, buyer.instrument, buyer.network, score,
            msgspec.json.encode(reasons).decode(), review,
        )
        return booking

    # The buyer's limit and risk ------------------------------------------------------------

    async def buyer_seats(
        self, conn: Connection, show_id: uuid.UUID, buyer: BuyerKeys
    ) -> tuple[int, int]:
        """Seats of the show's live bookings by the buyer's e-mail and by its instrument, after
        taking the buyer's locks (held to commit, so the count stays true)."""
        await conn.execute(sql("buyer_lock"), show_id, buyer.email)
        if buyer.instrument is not None:
            await conn.execute(sql("buyer_lock"), show_id, buyer.instrument)
        row = await conn.fetchrow(sql("buyer_seats"), show_id, buyer.email, buyer.instrument)
        assert row is not None  # noqa: S101 - one row of sub-selects
        return int(row["by_email"]), int(row["by_instrument"])

    async def fraud_facts(
        self, conn: Connection, show_id: uuid.UUID, buyer: BuyerKeys, visitor_id: str, *,
        instrument: str, now: datetime,
    ) -> asyncpg.Record:
        row = await conn.fetchrow(
            sql("fraud_facts"), show_id, buyer.email, visitor_id, instrument, now
        )
        assert row is not None  # noqa: S101 - one row of sub-selects
        return row

    async def insert_booking_seats(
        self, conn: Connection, booking_id: uuid.UUID, show_id: uuid.UUID,
        seats: list[tuple[str, Decimal]],
    ) -> None:
        """One ``booking_seats`` row per ``(seat id, price)``."""
        await conn.executemany(
            sql("insert_booking_seats"),
            [(booking_id, show_id, seat, price) for seat, price in seats],
        )

    async def insert_payment(
        self, conn: Connection, booking_id: uuid.UUID, *, amount: Decimal, currency: str,
        method: str, expires_at: datetime, gateway: str, idempotency_key: str,
    ) -> uuid.UUID:
        payment: uuid.UUID = await conn.fetchval(
            sql("insert_payment"), booking_id, amount, currency, method, expires_at, gateway,
            idempotency_key,
        )
        return payment

    async def add_audit(
        self, conn: Connection, actor: str, entry: tuple[str, str, str, Mapping[str, Any]]
    ) -> None:
        """One audit row ``(entity, entity_id, action, data)`` by ``actor``."""
        entity, entity_id, action, data = entry
        await conn.execute(sql("add_audit"), actor, entity, entity_id, action, to_json(data))
