"""PostgreSQL figures for ``/metrics``, read at scrape time (``admitone/monitoring.py``): the
shows on sale, their bookings and seats by state, and the invariant check. Read only."""

from __future__ import annotations

import uuid

import asyncpg

from admitone.db.sql import sql_folder
from admitone.outages import translates

sql = sql_folder("admitone.booking_core")

INVARIANTS = (
    "double_bookings", "confirmed_without_payment", "captured_without_outcome",
    "locks_past_expiry",
)

Executor = asyncpg.Pool | asyncpg.Connection


@translates("PostgreSQL")
class MonitoringRepository:
    """The read-only queries behind the shared figures of ``/metrics``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def shows_on_sale(self, limit: int) -> list[tuple[str, bool]]:
        """(show id, has an enabled waiting room) of up to ``limit`` shows on sale."""
        rows = await self.pool.fetch(sql("monitoring_shows_on_sale"), limit)
        return [(row["show_id"], row["has_room"]) for row in rows]

    async def bookings_by_state(self, show_ids: list[str]) -> list[tuple[str, str, int]]:
        rows = await self.pool.fetch(sql("monitoring_bookings_by_state"), _uuids(show_ids))
        return [(row["show_id"], row["status"], row["bookings"]) for row in rows]

    async def seats_by_state(self, show_ids: list[str]) -> list[tuple[str, str, int]]:
        rows = await self.pool.fetch(sql("monitoring_seats_by_state"), _uuids(show_ids))
        return [(row["show_id"], row["status"], row["seats"]) for row in rows]

    async def invariant_violations(
        self, grace_seconds: float, executor: Executor | None = None
    ) -> dict[str, int]:
        """Rows breaking each invariant in ``INVARIANTS`` (0 each when all is well)."""
        row = await (executor or self.pool).fetchrow(sql("monitoring_invariants"), grace_seconds)
        assert row is not None  # noqa: S101 - a SELECT of sub-queries answers one row
        return {name: int(row[name]) for name in INVARIANTS}


def _uuids(show_ids: list[str]) -> list[uuid.UUID]:
    return [uuid.UUID(show) for show in show_ids]
