"""PostgreSQL access for seats and locks. Nothing here commits on its own behalf beyond the
single statement it runs: the seat functions are whole transactions in one round trip."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from admitone.booking_core.lock_batches import LockCoalescer, LockRequest
from admitone.db.sql import sql_folder
from admitone.outages import POSTGRES_DOWN, translates

sql = sql_folder("admitone.booking_core")
# Lock calls of one show a process keeps in flight before further requests queue for a batch:
# with one, batches serialised a worker's locks and lost a fifth of the throughput of single
# calls (bench/README.md, "Lock batches"); with four they matched it.
LOCK_BATCH_LANES = 4


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
    since each is a hold that a crash may lose but never a sale; the migration says why), and,
    with ADMITONE_LOCK_BATCH, concurrent locks of one show in batches (migration 0028).

    Locks, releases and the sweep run on the primary (``pool``); the seat map, which only shows
    fans what they may try to lock, may come from a read replica (``read_pool``): the lock
    decision itself always reads the primary's rows, so a replica's lag can show a seat taken a
    moment ago as free, never sell it twice."""

    def __init__(self, pool: asyncpg.Pool, *, read_pool: asyncpg.Pool | None = None,
                 lock_batch: int = 0, lock_batch_lanes: int = LOCK_BATCH_LANES) -> None:
        self.pool = pool
        self.replica_pool = read_pool
        # ADMITONE_LOCK_BATCH: concurrent locks of a show go as batches of at most this many
        # (booking_core/lock_batches.py); 0 or 1: every lock is its own call.
        self.coalescer = (
            LockCoalescer(self._lock_one, self.lock_batch, max_batch=lock_batch,
                          retry_alone=_retry_alone, lanes=lock_batch_lanes)
            if lock_batch > 1 else None
        )

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
        request = LockRequest(show_id, seat_ids, visitor_id, lock_id, lock_seconds, network,
                              network_max, device)
        if self.coalescer is None:
            return await self._lock_one(request)
        return await self.coalescer.lock(request)

    async def _lock_one(self, request: LockRequest) -> LockResult:
        rows = await self.pool.fetch(
            "SELECT * FROM admitone_lock_seats($1, $2, $3, $4, $5, $6, $7, $8)",
            request.show_id,
            request.seat_ids,
            request.visitor_id,
            request.lock_id,
            request.lock_seconds,
            request.network,
            request.network_max,
            request.device,
        )
        return _lock_result(rows)

    async def lock_batch(self, requests: list[LockRequest]) -> list[LockResult]:
        """One transaction deciding ``requests`` (all of one show, one lock period, one network
        cap) in their order, each all or nothing (migration 0028); an answer for each."""
        rows = await self.pool.fetch(sql("lock_seats_batch"), *batch_arguments(requests))
        by_request: list[list[asyncpg.Record]] = [[] for _ in requests]
        for row in rows:
            by_request[row["request_no"] - 1].append(row)
        return [_lock_result(mine) for mine in by_request]

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


def batch_arguments(requests: list[LockRequest]) -> tuple[object, ...]:
    """The parameters of ``sql/lock_seats_batch.sql`` for ``requests`` (of one batch key)."""
    first = requests[0]
    return (
        first.show_id,
        first.lock_seconds,
        first.network_max,
        [r.visitor_id for r in requests],
        [r.lock_id for r in requests],
        [r.network for r in requests],
        [r.device for r in requests],
        [n for n, r in enumerate(requests, 1) for _ in r.seat_ids],
        [seat for r in requests for seat in r.seat_ids],
    )


def _lock_result(rows: list[asyncpg.Record]) -> LockResult:
    """The answer of one request from its rows of ``admitone_lock_seats``."""
    first = rows[0]
    return LockResult(
        outcome=first["outcome"],
        seats=[(row["seat_id"], row["price"]) for row in rows if row["seat_id"] is not None],
        expires_at=first["expires_at"],
        held=first["held"],
        max_held=first["max_held"],
        currency=first["currency"],
    )


def _retry_alone(exc: Exception) -> bool:
    """A batch that failed with an error of a statement (PostgreSQL rolled it back) is retried
    as single calls, each answered on its own; an outage or a timeout (already translated by
    ``lock_batch``) is not retried: it fails every request with the error each single call
    would have met."""
    return isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, POSTGRES_DOWN)
