"""A show's seats by state, for the waiting room in front of it (which stops admitting when
nothing is left and tells fans their chance; it learns the counts through ``runtime.py``)."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from admitone.db.sql import sql_folder
from admitone.outages import translates

sql = sql_folder("admitone.booking_core")


class SeatCounts(msgspec.Struct, frozen=True, kw_only=True):
    available: int  # free, or held by a lock that has expired
    locked: int  # held by a live lock: may come back
    booked: int
    orders: int  # confirmed bookings holding the booked seats


@translates("PostgreSQL")
class SeatInventory:
    """Counts of ``show_seats``: one aggregate over the show's rows (its primary key)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def counts(self, show_id: str) -> SeatCounts:
        row = await self.pool.fetchrow(sql("seat_counts"), uuid.UUID(show_id))
        assert row is not None  # noqa: S101 - an aggregate always returns a row
        return SeatCounts(available=row["available"], locked=row["locked"],
                          booked=row["booked"], orders=row["orders"])
