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


@dataclass(frozen=True, slots=True)
class NewCheckout:
    """Everything ``insert_checkout`` writes; the ids are made by the caller, so the answer
    stored with the Idempotency-Key is known before the statement runs."""

    booking_id: uuid.UUID
    payment_id: uuid.UUID
    reference: str
    show_id: uuid.UUID
    visitor_id: str
    lock_id: uuid.UUID
    email: str
    amount: Decimal
    currency: str
    buyer: BuyerKeys
    risk: tuple[int, list[dict[str, Any]], bool]
    seats: list[tuple[str, Decimal]]
    method: str
    payment_expires_at: datetime
    gateway: str
    idempotency_key: str
    audit: Mapping[str, Any]
    status_code: int
    body: str


class CheckoutRepository:
    """The SQL of ``POST /api/v1/bookings``."""

    # The Idempotency-Key -----------------------------------------------------------------

    async def claim_idempotency_key(
        self, conn: Connection, visitor_id: str, key: str, request_hash: str
    ) -> bool:
        """True for the first request with this key; False when it was used before."""
        fresh = await conn.fetchval(sql("claim_idempotency_key"), visitor_id, key, request_hash)
        return bool(fresh)

    async def stored_response(
        self, conn: Connection, visitor_id: str, key: str
    ) -> asyncpg.Record | None:
        return await conn.fetchrow(sql("stored_checkout_response"), visitor_id, key)

    # The lock, in lock order -------------------------------------------------------------

    async def checkout_seats(
        self, conn: Connection, lock_id: uuid.UUID, visitor_id: str
    ) -> list[asyncpg.Record]:
        """The seats of the visitor's lock, held (none when the lock is not the visitor's)."""
        return await conn.fetch(sql("checkout_seats"), lock_id, visitor_id)

    async def checkout_lock(
        self, conn: Connection, lock_id: uuid.UUID, visitor_id: str
    ) -> asyncpg.Record | None:
        """The visitor's lock, held, with ``live_booking`` and the database clock ``now``."""
        return await conn.fetchrow(sql("checkout_lock"), lock_id, visitor_id)

    # The buyer's limit and risk ------------------------------------------------------------

    async def checkout_facts(
        self, conn: Connection, show_id: uuid.UUID, buyer: BuyerKeys, visitor_id: str, *,
        instrument: str, now: datetime,
    ) -> asyncpg.Record:
        """After taking the buyer's locks (held to commit, so the counts stay true): seats of
        the show's live bookings by the buyer's e-mail (``by_email``) and by its instrument
        (``by_instrument``), and the facts of the fraud score."""
        await conn.execute(sql("buyer_locks"), show_id, buyer.email, buyer.instrument)
        row = await conn.fetchrow(
            sql("checkout_facts"), show_id, buyer.email, buyer.instrument, visitor_id,
            instrument, now,
        )
        assert row is not None  # noqa: S101 - one row of sub-selects
        return row

    # The booking -------------------------------------------------------------------------

    async def extend_checkout_lock(
        self, conn: Connection, lock_id: uuid.UUID, *, until: datetime, now: datetime,
        show_id: uuid.UUID, seat_ids: list[str],
    ) -> None:
        """The lock and its seats are held until ``until``."""
        await conn.execute(sql("extend_checkout_lock"), lock_id, until, now, show_id, seat_ids)

    async def insert_checkout(self, conn: Connection, checkout: NewCheckout) -> None:
        """The PENDING booking, its seats, its INITIATED payment, the audit row and the stored
        answer of the Idempotency-Key, in one statement."""
        c = checkout
        score, reasons, review = c.risk
        await conn.execute(
            sql("insert_checkout"), c.booking_id, c.reference, c.show_id, c.visitor_id,
            c.lock_id, c.email, c.amount, c.currency, c.buyer.email, c.buyer.instrument,
            c.buyer.network, score, msgspec.json.encode(reasons).decode(), review,
            [seat for seat, _ in c.seats], [price for _, price in c.seats], c.payment_id,
            c.method, c.payment_expires_at, c.gateway, c.idempotency_key,
            to_json(c.audit), c.status_code, c.body,
        )
