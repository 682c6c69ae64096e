"""The pre-queue lottery of RANDOM_PREQUEUE rooms, kept and published (``admission/draw.py``
holds the maths).

The seed is made when such a room is first set up and stays in PostgreSQL, secret from
everyone (operators included: knowing it early would let someone try visitor ids until one
drew well), until the draw at ``startsAt``. Redis records the drawn order (``lib.lua``
``number_prequeue``); this service copies it into PostgreSQL the first time anyone asks after
the draw, so the published draw outlives a Redis restart.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import structlog

from admitone.admission import draw
from admitone.admission.models import DrawOut
from admitone.admission.rooms import canonical_show_id
from admitone.db.sql import sql_folder
from admitone.errors import DrawNotFoundError
from admitone.outages import translates
from admitone.queue.store import QueueStore

log = structlog.get_logger(__name__)
sql = sql_folder("admitone.admission")
_SEEDS_CACHED = 10_000


@translates("PostgreSQL")
class DrawRepository:
    """The ``queue_draws`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, show_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(sql("get_draw"), uuid.UUID(show_id))

    async def record_drawn(
        self, show_id: str, drawn_at: datetime, first_ticket: int, entries: list[str]
    ) -> None:
        await self.pool.execute(
            sql("record_drawn"), uuid.UUID(show_id), drawn_at, first_ticket, entries
        )


class Draws:
    """Seeds for the queue's join, and the published draw of a room."""

    def __init__(self, repository: DrawRepository, store: QueueStore) -> None:
        self.repository = repository
        self.store = store
        self._seeds: dict[str, bytes] = {}

    def cached_seed(self, show_id: str) -> bytes | None:
        """The seed if this process has read it already (no I/O)."""
        return self._seeds.get(show_id)

    async def seed(self, show_id: str) -> bytes | None:
        """The room's draw seed (it never changes once made, so it is cached for good)."""
        found = self._seeds.get(show_id)
        if found is not None:
            return found
        row = await self.repository.get(show_id)
        if row is None:
            return None
        if len(self._seeds) > _SEEDS_CACHED:
            self._seeds.clear()
        self._seeds[show_id] = bytes(row["seed"])
        return self._seeds[show_id]

    async def published(self, show_id: str, now: datetime | None = None) -> DrawOut:
        """The commitment before the draw; the seed and the entries in drawn order after it."""
        show = canonical_show_id(show_id)
        row = await self.repository.get(show)
        if row is None:
            raise DrawNotFoundError(f"Show {show} has no pre-queue draw")
        if row["drawn_at"] is None:
            drawn = await self.store.drawn_prequeue(show)
            if drawn is not None:
                drawn_at = datetime.fromtimestamp(drawn.drawn_at_ms / 1000, tz=UTC)
                await self.repository.record_drawn(
                    show, drawn_at, drawn.first_ticket, drawn.entries
                )
                log.info("prequeue_draw_published", show_id=show, entries=len(drawn.entries))
                row = await self.repository.get(show)
                assert row is not None  # noqa: S101 - the row was there a moment ago
        if row["drawn_at"] is None:
            return DrawOut(show_id=show, status="COMMITTED", commitment=row["commitment"],
                           committed_at=row["committed_at"])
        return DrawOut(
            show_id=show, status="DRAWN", commitment=row["commitment"],
            committed_at=row["committed_at"], drawn_at=row["drawn_at"],
            seed=bytes(row["seed"]).hex(), first_ticket=row["first_ticket"],
            entries=list(row["entries"]), algorithm=draw.ALGORITHM,
        )
