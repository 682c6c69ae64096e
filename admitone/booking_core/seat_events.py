"""The seat map's Redis side: a short-lived cache and pub/sub of seat changes.

Redis here is an accelerator, never the truth (seed §6.2.4, §7): if it does not answer, seat
maps are read from PostgreSQL and live updates wait for the next poll.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Literal

import msgspec
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from admitone.booking_core.keys import seat_channel, seat_map_key

log = structlog.get_logger(__name__)

SeatEventType = Literal["SEAT_LOCKED", "SEAT_RELEASED", "SEAT_BOOKED"]


class SeatEvent(msgspec.Struct, frozen=True, rename="camel"):
    type: SeatEventType
    show_id: str
    seat_ids: list[str]


_encode_event = msgspec.json.Encoder().encode


class SeatEvents:
    """Caches seat maps and announces seat changes."""

    def __init__(self, redis: Redis, cache_seconds: float) -> None:
        self.redis = redis
        self.cache_ms = max(1, int(cache_seconds * 1000))

    async def cached(self, show_id: str, load: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached seat map, or ``load()`` stored for the next ``cache_seconds``."""
        key = seat_map_key(show_id)
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
        """Invalidate the show's cached map and publish what changed."""
        ids = list(seat_ids)
        if not ids:
            return
        message = _encode_event(SeatEvent(type=event, show_id=show_id, seat_ids=ids))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.delete(seat_map_key(show_id))
                pipe.publish(seat_channel(show_id), message)
                await pipe.execute()
        except RedisError as exc:
            log.warning("seat_event_not_published", show_id=show_id, error=str(exc))
