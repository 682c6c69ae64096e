"""The seat map's Redis side: a short-lived cache and pub/sub of seat changes.

Redis here is an accelerator, never the truth (the seat's row in PostgreSQL is): if it does
not answer, seat maps are read from PostgreSQL and live updates wait for the next poll
(``tests/integration/test_dependencies_down.py``).

Changes are batched: a lock or release records its change and returns; one pipeline a few
milliseconds later invalidates the cached maps and publishes every change of that moment, so a
rush of locks costs one Redis round trip per batch instead of one per request. A seat map read
in this process first waits for that show's pending batch, so a fan never reads back an older
map than the change its own request made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Literal

import msgspec
import structlog
from redis.asyncio import RedisCluster
from redis.exceptions import RedisError

from admitone.booking_core.keys import seat_channel, seat_map_key
from admitone.redis_client import RedisClient

log = structlog.get_logger(__name__)

SeatEventType = Literal["SEAT_LOCKED", "SEAT_RELEASED", "SEAT_BOOKED"]
BATCH_SECONDS = 0.005


class SeatEvent(msgspec.Struct, frozen=True, rename="camel"):
    type: SeatEventType
    show_id: str
    seat_ids: list[str]


_encode_event = msgspec.json.Encoder().encode


class SeatEvents:
    """Caches seat maps and announces seat changes (keys and channels start with ``prefix``).

    On a Redis Cluster the batch's pipeline sends each DEL to the node of its key, and PUBLISH
    (plain, not sharded) goes to any node: the cluster bus hands the message to subscribers on
    every node, so one pattern subscription per process still hears every show."""

    def __init__(self, redis: RedisClient, cache_seconds: float, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.cache_ms = max(1, int(cache_seconds * 1000))
        self._pending: list[SeatEvent] = []
        self._flush: asyncio.Task[None] | None = None

    async def cached(self, show_id: str, load: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached seat map, or ``load()`` stored for the next ``cache_seconds``."""
        await self._settled(show_id)
        key = seat_map_key(self.prefix, show_id)
        try:
            hit = await self.redis.get(key)
        except RedisError as exc:
            log.warning("seat_map_cache_unavailable", error=str(exc))
            return await load()
        if hit is not None:
            return hit if isinstance(hit, bytes) else hit.encode()
        body = await load()
        try:
            await self.redis.set(key, body, px=self.cache_ms)
        except RedisError as exc:
            log.warning("seat_map_cache_unavailable", error=str(exc))
        return body

    async def changed(self, show_id: str, event: SeatEventType, seat_ids: Iterable[str]) -> None:
        """Record a change; the next batch invalidates the show's map and publishes it."""
        ids = list(seat_ids)
        if not ids:
            return
        self._pending.append(SeatEvent(type=event, show_id=show_id, seat_ids=ids))
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._send_soon(), name="seat_events_flush")

    async def _settled(self, show_id: str) -> None:
        """Wait for a pending batch that touches ``show_id`` (at most one batch period)."""
        flush = self._flush
        if (
            flush is not None
            and not flush.done()
            and any(e.show_id == show_id for e in self._pending)
        ):
            await asyncio.shield(flush)

    async def _send_soon(self) -> None:
        await asyncio.sleep(BATCH_SECONDS)
        # Changes recorded while a batch is on the wire go out in the next turn of this loop:
        # ``changed`` starts no new task while this one runs.
        while self._pending:
            await self.flush()

    async def flush(self) -> None:
        """Send every recorded change now: one pipeline for the whole batch."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        cluster = isinstance(self.redis, RedisCluster)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for show_id in {e.show_id for e in batch}:
                    pipe.delete(seat_map_key(self.prefix, show_id))
                if not cluster:
                    for event in batch:
                        pipe.publish(seat_channel(self.prefix, event.show_id), _encode_event(event))
                await pipe.execute()
            if cluster:
                await self._publish_apart(batch)
        except RedisError as exc:
            log.warning("seat_events_not_published", events=len(batch), error=str(exc))

    async def _publish_apart(self, batch: list[SeatEvent]) -> None:
        """A cluster pipeline refuses PUBLISH (it has no key to route by): each show's changes
        go out one after another, in order, the shows side by side."""
        by_show: dict[str, list[SeatEvent]] = {}
        for event in batch:
            by_show.setdefault(event.show_id, []).append(event)

        async def publish(show_id: str, events: list[SeatEvent]) -> None:
            for event in events:
                await self.redis.publish(seat_channel(self.prefix, show_id), _encode_event(event))

        await asyncio.gather(*(publish(show, events) for show, events in by_show.items()))

    async def aclose(self) -> None:
        """Send what is pending (at shutdown)."""
        if self._flush is not None and not self._flush.done():
            await asyncio.shield(self._flush)
        await self.flush()
