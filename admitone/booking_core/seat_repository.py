"""PostgreSQL access for seats and locks. Nothing here commits on its own behalf beyond the
single statement it runs: the seat functions are whole transactions in one round trip."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from admitone.db.sql import sql_folder
from admitone.outages import translates

sql = sql_folder("admitone.booking_core")
@dataclass(frozen=True, slots=True)
class LockResult:
    outcome: str  # LOCKED, NO_SHOW, SHOW_CLOSED, UNKNOWN, UNAVAILABLE, LIMIT,
    # DEVICE_LIMIT, NETWORK_LIMIT
    seats: list[tuple[str, Decimal]]  # (seat id, price) for LOCKED; the seat ids otherwise
    expires_at: datetime | None
    held: int
    max_held: int
    currency: str | None


@translates("PostgreSQL")
class SeatLockRepository:
    """Calls the seat functions (as migration 0027 has them: lean, committed asynchronously,
    since each is a hold that a crash may lose but never a sale; the migration says why).

    Locks, releases and the sweep run on the primary (``pool``); the seat map, which only shows
    fans what they may try to lock, may come from a read replica (``read_pool``): the lock
    decision itself always reads the primary's rows, so a replica's lag can show a seat taken a
    moment ago as free, never sell it twice."""

    def __init__(self, pool: asyncpg.Pool, *, read_pool: asyncpg.Pool | None = None) -> None:
        self.pool = pool
        self.replica_pool = read_pool

    @property
    def read_pool(self) -> asyncpg.Pool:
        """The replica when one is configured, else the primary (``pool``, even if replaced)."""
        return self.replica_pool or self.pool

    async def lock(
        self,
        show_id: uuid.UUID,
        seat_ids: list[str],
        visitor_id: str,
        lock_id: uuid.UUID,
        lock_seconds: int,
        *,
        network: str = "",
        network_max: int = 0,
        device: str = "",
    ) -> LockResult:
        rows = await self.pool.fetch(
            "SELECT * FROM admitone_lock_seats($1, $2, $3, $4, $5, $6, $7, $8)",
            show_id,
            seat_ids,
            visitor_id,
            lock_id,
            lock_seconds,
            network,
            network_max,
            device,
        )
        first = rows[0]
        return LockResult(
            outcome=first["outcome"],
            seats=[(row["seat_id"], row["price"]) for row in rows if row["seat_id"] is not None],
            expires_at=first["expires_at"],
            held=first["held"],
            max_held=first["max_held"],
            currency=first["currency"],
        )

    async def extend(
        self, lock_id: uuid.UUID, visitor_id: str, seconds: int, max_life_seconds: int
    ) -> tuple[str, datetime | None]:
        row = await self.pool.fetchrow(
            "SELECT * FROM admitone_extend_lock($1, $2, $3, $4)",
            lock_id,
            visitor_id,
            seconds,
            max_life_seconds,
        )
        assert row is not None  # noqa: S101 - the function always returns one row
        return row["outcome"], row["expires_at"]

    async def release(
        self, lock_id: uuid.UUID, visitor_id: str
    ) -> tuple[str, str | None, list[str]]:
        row = await self.pool.fetchrow(
            "SELECT * FROM admitone_release_lock($1, $2)", lock_id, visitor_id
        )
        assert row is not None  # noqa: S101 - the function always returns one row
        show = row["show_id"]
        return row["outcome"], str(show) if show else None, list(row["seat_ids"] or [])

    async def sweep(self, limit: int) -> list[tuple[str, str]]:
        rows = await self.pool.fetch("SELECT * FROM admitone_sweep_expired_locks($1)", limit)
        return [(str(row["show_id"]), row["seat_id"]) for row in rows]

    async def free_seat_ids(self, show_id: uuid.UUID) -> list[str]:
        """The seats a lock could take now, read on the primary: it feeds the alternatives
        offered on a conflict, which must not name a seat sold a moment ago on a lagging replica."""
        return [row["seat_id"] for row in await self.pool.fetch(sql("free_seat_ids"), show_id)]

    async def seat_layout(self, show_id: uuid.UUID) -> dict[str, tuple[int, int, str]]:
        """Each seat's row index, number and type: fixed once the show exists."""
        return {
            row["seat_id"]: (row["row_index"], row["seat_number"], row["seat_type"])
            for row in await self.seat_rows(show_id)
        }

    async def seat_rows(self, show_id: uuid.UUID) -> list[asyncpg.Record]:
        return await self.read_pool.fetch(sql("seat_map"), show_id)

    async def show_row(self, show_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.read_pool.fetchrow(sql("show_row"), show_id)
