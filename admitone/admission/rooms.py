"""Waiting-room settings: kept in PostgreSQL (the truth), mirrored into Redis (where the
scripts and the scheduler read them every tick), cached in-process for the answers that must
work without Redis (fail open, proof-of-work difficulty)."""

from __future__ import annotations

import functools
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import structlog
from asyncpg.pool import PoolConnectionProxy

from admitone.admission import draw
from admitone.admission.models import WaitingRoomIn, WaitingRoomPatch
from admitone.db.sql import sql_folder
from admitone.errors import (
    DependencyUnavailableError,
    InvalidRequestError,
    ShowNotFoundError,
    WaitingRoomNotFoundError,
)
from admitone.ids import uuid_or_none
from admitone.outages import REDIS_DOWN, translates
from admitone.queue.models import WaitingRoom
from admitone.queue.store import QueueStore

log = structlog.get_logger(__name__)
sql = sql_folder("admitone.admission")

_CACHE_ROOMS = 10_000  # a bound on the in-process cache, far above the rooms open at once
# Longer than any access token this service issues (sessionSeconds is at most a day).
REVOCATION_LIFETIME = timedelta(days=1)
_FIELDS = (
    "enabled", "release_rate_per_minute", "max_active", "session_seconds", "queue_mode",
    "opens_at", "starts_at", "paused", "fail_open", "abandon_grace_seconds",
    "pow_difficulty_bits", "identity_required",
)


def canonical_show_id(show_id: str) -> str:
    """The show id as Redis keys and PostgreSQL know it; anything else has no room (404)."""
    found = _canonical(show_id) if len(show_id) <= _REMEMBERED else _canonical.__wrapped__(show_id)
    if found is None:
        raise WaitingRoomNotFoundError(f"No waiting room for show {show_id[:64]!r}")
    return found


# Spellings remembered up to this length ("urn:uuid:{…}" with hyphens is 47); a longer one is
# parsed each time (uuid.UUID reads any number of hyphens), so junk cannot fill the cache.
_REMEMBERED = 48


@functools.lru_cache(maxsize=4096)
def _canonical(show_id: str) -> str | None:
    """Remembered per spelling: parsing a UUID is a few microseconds on every fan's call."""
    found = uuid_or_none(show_id)
    return None if found is None else str(found)


def _room(row: asyncpg.Record) -> WaitingRoom:
    data = dict(row.items())
    data["show_id"] = str(data["show_id"])
    return WaitingRoom(**data)


def _check(values: dict[str, Any]) -> None:
    opens, starts = values.get("opens_at"), values.get("starts_at")
    if opens is not None and starts is not None and opens > starts:
        raise InvalidRequestError("opensAt must not be after startsAt")


Connection = asyncpg.Connection | PoolConnectionProxy


async def _upsert(conn: Connection, show: uuid.UUID, values: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(sql("upsert_waiting_room"), show, *(values[f] for f in _FIELDS))
    assert row is not None  # noqa: S101 - INSERT … RETURNING returns the row
    return row


async def _audit(
    conn: Connection, actor: str, entity: str, entity_id: str, action: str, *,
    data: dict[str, Any],
) -> None:
    """Who changed what, in the same transaction as the change."""
    await conn.execute(
        sql("add_audit"),
        actor, entity, entity_id, action, msgspec.json.encode(data).decode(),
    )


async def _commit_draw(conn: Connection, show: uuid.UUID, queue_mode: str) -> None:
    """A RANDOM_PREQUEUE room gets its draw seed once, with the commitment published from now
    on (``admission/draws.py``); a room that has one keeps it."""
    if queue_mode != "RANDOM_PREQUEUE":
        return
    seed = draw.new_seed()
    await conn.execute(sql("commit_draw"), show, seed, draw.commitment(seed))


@translates("PostgreSQL")
class RoomRepository:
    """The ``waiting_rooms`` and ``token_revocations`` tables, and the audit log of changes."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, show_id: str) -> WaitingRoom | None:
        row = await self.pool.fetchrow(sql("get_waiting_room"), uuid.UUID(show_id))
        return None if row is None else _room(row)

    async def show_on_sale(self, show_id: str) -> bool:
        """Whether the show exists, is active and has not started."""
        found = await self.pool.fetchval(sql("show_on_sale"), uuid.UUID(show_id))
        return bool(found)

    async def list_enabled(self) -> list[WaitingRoom]:
        return [_room(row) for row in await self.pool.fetch(sql("list_enabled_waiting_rooms"))]

    async def put(self, show_id: str, values: dict[str, Any], actor: str) -> WaitingRoom:
        """Create or replace the room; the change goes to the audit log in the same commit."""
        _check(values)
        show = uuid.UUID(show_id)
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM shows WHERE id = $1", show):
                raise ShowNotFoundError(f"No show has the id {show_id}")
            row = await _upsert(conn, show, values)
            await _commit_draw(conn, show, values["queue_mode"])
            await _audit(conn, actor, "waiting_room", show_id, "WAITING_ROOM_SET", data=values)
        return _room(row)

    async def patch(self, show_id: str, changes: dict[str, Any], actor: str) -> WaitingRoom:
        """Change some fields of an existing room, under its row lock."""
        show = uuid.UUID(show_id)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(sql("lock_waiting_room"), show)
            if row is None:
                raise WaitingRoomNotFoundError(f"Show {show_id} has no waiting room; PUT one first")
            before = {name: row[name] for name in changes}
            values = {name: row[name] for name in _FIELDS} | changes
            _check(values)
            row = await _upsert(conn, show, values)
            await _commit_draw(conn, show, values["queue_mode"])
            await _audit(conn, actor, "waiting_room", show_id, "WAITING_ROOM_CHANGED",
                         data={"changes": changes, "before": before})
        return _room(row)

    async def add_revocation(
        self, show_id: str, visitor_id: str, until: datetime, actor: str
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM shows WHERE id = $1", uuid.UUID(show_id)):
                raise ShowNotFoundError(f"No show has the id {show_id}")
            await conn.execute(sql("add_token_revocation"), uuid.UUID(show_id), visitor_id,
                               until, actor)
            await _audit(conn, actor, "visitor", f"{show_id}/{visitor_id}", "VISITOR_REVOKED",
                         data={"revokedUntil": until})

    async def ticket_floor(self, show_id: str) -> int:
        floor = await self.pool.fetchval(
            "SELECT ticket_floor FROM waiting_rooms WHERE show_id = $1", uuid.UUID(show_id))
        return int(floor or 0)

    async def raise_ticket_floor(self, show_id: str, floor: int) -> None:
        await self.pool.execute(sql("raise_ticket_floor"), uuid.UUID(show_id), floor)

    async def record_sessions(self, show_id: str, sessions: list[tuple[str, int]]) -> None:
        """Remember sessions just handed out: (visitor, end in unix ms)."""
        if sessions:
            await self.pool.execute(sql("record_admission_sessions"), uuid.UUID(show_id),
                                    [visitor for visitor, _ in sessions],
                                    [ends for _, ends in sessions])

    async def live_sessions(self, show_id: str) -> list[tuple[str, int]]:
        """(visitor, end in unix ms) of the room's sessions that have not ended."""
        rows = await self.pool.fetch(sql("list_admission_sessions"), uuid.UUID(show_id))
        return [(row["visitor_id"], int(row["ends_ms"])) for row in rows]

    async def end_session(self, show_id: str, visitor_id: str) -> None:
        await self.pool.execute(sql("end_admission_session"), uuid.UUID(show_id), visitor_id)

    async def prune_sessions(self) -> None:
        await self.pool.execute(sql("prune_admission_sessions"))

    async def revocations(self, show_id: str) -> list[tuple[str, int]]:
        """(visitor, until in unix ms) of the show's revocations still in force."""
        rows = await self.pool.fetch(sql("list_token_revocations"), uuid.UUID(show_id))
        return [(row["visitor_id"], int(row["revoked_until"].timestamp() * 1000)) for row in rows]



class RoomSettings:
    """Reads and changes of room settings, with the Redis mirror and an in-process cache."""

    def __init__(
        self, repository: RoomRepository, store: QueueStore, cache_seconds: float = 2.0
    ) -> None:
        self.repository = repository
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, WaitingRoom | None]] = {}

    async def get(self, show_id: str) -> WaitingRoom:
        """The room (cached for ``cache_seconds``); raises WaitingRoomNotFoundError."""
        show = canonical_show_id(show_id)
        cached = self._cache.get(show)
        if cached is not None and self._fresh(cached[0]):
            room = cached[1]
        else:
            room = await self.repository.get(show)
            self._remember(show, room)
        if room is None:
            raise WaitingRoomNotFoundError(f"Show {show} has no waiting room")
        return room

    async def queues(self, show_id: str) -> bool:
        """Whether the show's fans go through its waiting room (the room is enabled) rather
        than straight to its seats. True when the settings cannot be read: the queue page is
        the safe way in (with no room, joining admits at once)."""
        try:
            room = await self.get(show_id)
        except WaitingRoomNotFoundError:
            return False
        except DependencyUnavailableError as exc:
            log.warning("waiting_room_unreadable", show_id=show_id[:64], error=repr(exc))
            return True
        return room.enabled

    def _fresh(self, cached_at: float) -> bool:
        return time.monotonic() - cached_at < self.cache_seconds

    def _remember(self, show_id: str, room: WaitingRoom | None) -> None:
        if len(self._cache) > _CACHE_ROOMS:
            self._cache.clear()
        self._cache[show_id] = (time.monotonic(), room)

    async def put(self, show_id: str, data: WaitingRoomIn, actor: str) -> WaitingRoom:
        show = canonical_show_id(show_id)
        values = {name: getattr(data, name) for name in _FIELDS}
        room = await self.repository.put(show, values, actor)
        await self._changed(room)
        return room

    async def patch(self, show_id: str, data: WaitingRoomPatch, actor: str) -> WaitingRoom:
        show = canonical_show_id(show_id)
        room = await self.repository.patch(show, data.changes(), actor)
        await self._changed(room)
        return room

    async def _changed(self, room: WaitingRoom) -> None:
        self._remember(room.show_id, room)
        try:
            await self.mirror(room)
        except REDIS_DOWN as exc:  # the scheduler mirrors it once Redis answers again
            log.warning("waiting_room_mirror_failed", show_id=room.show_id, error=repr(exc))
        log.info("waiting_room_changed", show_id=room.show_id, version=room.version)

    async def mirror(self, room: WaitingRoom) -> str:
        """Copy the room's settings and revocations into Redis; the room state's epoch. A new
        room state (Redis lost the old one) gets the live sessions back in its active set."""
        revoked = await self.repository.revocations(room.show_id)
        floor = await self.repository.ticket_floor(room.show_id)
        sessions = await self.repository.live_sessions(room.show_id)
        return await self.store.sync(room, revoked, floor, sessions)

    async def restore(self, show_id: str) -> WaitingRoom:
        """After Redis lost a room's settings: read them afresh and mirror them again."""
        show = canonical_show_id(show_id)
        cached = self._cache.get(show)
        if cached is not None and cached[1] is None and self._fresh(cached[0]):
            raise WaitingRoomNotFoundError(f"Show {show} has no waiting room")  # asked just now
        room = await self.repository.get(show)
        self._remember(show, room)
        if room is None:
            raise WaitingRoomNotFoundError(f"Show {show} has no waiting room")
        await self.mirror(room)
        log.info("waiting_room_restored", show_id=show)
        return room

    async def enabled_rooms(self) -> list[WaitingRoom]:
        rooms = await self.repository.list_enabled()
        for room in rooms:
            self._remember(room.show_id, room)
        return rooms

    async def revoke(self, show_id: str, visitor_id: str, actor: str) -> datetime:
        """Record the revocation in PostgreSQL (so it outlives a Redis restart); until when."""
        show = canonical_show_id(show_id)
        until = datetime.now(UTC) + REVOCATION_LIFETIME
        await self.repository.add_revocation(show, visitor_id, until, actor)
        return until
