"""Live seat maps below the HTTP layer: one Redis subscription per process, and stream tickets.

Fan-out. Every process keeps ONE Redis pub/sub connection (:class:`SeatEventHub`) with a
pattern subscription to every show's channel (``keys.seat_channel``) and hands each message to
the streams open on that show: a thousand open seat maps cost one Redis connection, not a
thousand. ``SeatEvents.changed`` publishes ``{"type", "showId", "seatIds"}`` after every seat
change commits; a stream's queue carries that JSON unchanged, or :data:`FAILED` (the
subscription broke: Redis stopped answering) or :data:`OVERFLOW` (the stream fell more than
``QUEUE_SIZE`` messages behind and lost some: the page must reload the map).

Tickets. EventSource cannot send an ``Authorization`` header, and an access token in a URL ends
up in access logs, proxies' logs and browser history. So a page exchanges its token for a
*stream ticket* (:class:`StreamTickets`): a random string kept in Redis for
``TICKET_SECONDS`` that opens this one show's stream and nothing else. A leaked ticket shows
the seat changes of one show for a minute; it cannot lock, buy or read a booking.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta

import msgspec
import structlog
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from admitone.booking_core.keys import seat_channel, stream_ticket_key
from admitone.errors import DependencyUnavailableError
from admitone.outages import translates
from admitone.redis_client import RedisClient

log = structlog.get_logger(__name__)

TICKET_SECONDS = 60
QUEUE_SIZE = 256  # messages a slow stream may fall behind before it is told to resync
SUBSCRIBE_TIMEOUT_SECONDS = 2.0
# Any Redis failure ends the subscription (a protocol error as much as a lost connection).
_REDIS_DOWN = (RedisError, OSError)
# What a stream's queue carries besides messages: the hub failed, or the queue overflowed.
FAILED = b"\x00failed"
OVERFLOW = b"\x00overflow"


class StreamTicketOut(msgspec.Struct, frozen=True, rename="camel"):
    """A ticket that opens the seat stream of one show until ``expires_at``."""

    ticket: str
    expires_at: datetime


@translates("Redis")
class StreamTickets:
    """Stream tickets in Redis: issued for an admitted visitor, checked when a stream opens."""

    def __init__(
        self, redis: RedisClient, prefix: str, ticket_seconds: int = TICKET_SECONDS
    ) -> None:
        self.prefix = prefix
        self.redis = redis
        self.ticket_seconds = ticket_seconds

    async def issue(self, show_id: str, visitor_id: str) -> StreamTicketOut:
        """A fresh ticket for ``show_id``, kept for ``ticket_seconds``."""
        ticket = secrets.token_urlsafe(24)
        await self.redis.set(stream_ticket_key(self.prefix, show_id, ticket), visitor_id,
                             ex=self.ticket_seconds)
        return StreamTicketOut(
            ticket=ticket, expires_at=datetime.now(UTC) + timedelta(seconds=self.ticket_seconds))

    async def holder(self, show_id: str, ticket: str) -> str | None:
        """The visitor the ticket was issued to; None when unknown, expired or another show's."""
        found = await self.redis.get(stream_ticket_key(self.prefix, show_id, ticket))
        if found is None:
            return None
        return found.decode() if isinstance(found, bytes) else str(found)


class SeatEventHub:
    """One pattern subscription per process, fanned out to the open seat streams by show."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self.prefix = prefix
        self.redis = redis
        self._queues: dict[bytes, set[asyncio.Queue[bytes]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def listener_count(self) -> int:
        """How many streams are open on this hub (all shows)."""
        return sum(len(listeners) for listeners in self._queues.values())

    async def ensure_running(self) -> None:
        """Subscribe (once) and start the reader; DependencyUnavailableError("Redis") when
        Redis does not answer."""
        if self.running:
            return
        async with self._lock:
            if self.running:
                return
            pubsub = self.redis.pubsub()
            try:
                await pubsub.psubscribe(seat_channel(self.prefix, "*"))
                await _confirmed(pubsub)
            except BaseException as exc:
                with suppress(*_REDIS_DOWN):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                if isinstance(exc, _REDIS_DOWN):
                    raise DependencyUnavailableError("Redis") from exc
                raise
            self._task = asyncio.create_task(self._read(pubsub), name="seat_event_hub")

    @asynccontextmanager
    async def listen(self, show_id: str) -> AsyncIterator[asyncio.Queue[bytes]]:
        """A queue of this show's messages while the context is open.

        The queue is registered before the reader is started, so a stream that closes
        meanwhile never sees the hub idle and stops the reader under this one."""
        channel = seat_channel(self.prefix, show_id).encode()
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues.setdefault(channel, set()).add(queue)
        try:
            await self.ensure_running()
            yield queue
        finally:
            listeners = self._queues.get(channel)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    del self._queues[channel]
            if not self._queues:
                await self._stop()

    async def _stop(self) -> None:
        async with self._lock:
            task, self._task = self._task, None
            if task is not None and not self._queues:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            elif task is not None:  # a listener came back meanwhile: keep reading
                self._task = task

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        for queue in list(self._queues.get(channel, ())):
            try:
                queue.put_nowait(data)
            except asyncio.QueueFull:
                _drain(queue)
                queue.put_nowait(OVERFLOW)

    async def _read(self, pubsub: PubSub) -> None:
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None or message.get("type") != "pmessage":
                    continue
                channel, data = message.get("channel"), message.get("data")
                if isinstance(channel, bytes) and isinstance(data, bytes):
                    self._dispatch(channel, data)
        except _REDIS_DOWN as exc:
            log.warning("seat_event_hub_failed", error=repr(exc))
            for listeners in list(self._queues.values()):
                for queue in list(listeners):
                    _drain(queue)
                    queue.put_nowait(FAILED)
        finally:
            with suppress(*_REDIS_DOWN):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


async def _confirmed(pubsub: PubSub) -> None:
    """Wait for Redis to confirm the subscription, so no message published after it is lost."""
    deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        message = await pubsub.get_message(timeout=0.25)
        if message is not None and message.get("type") == "psubscribe":
            return
    raise DependencyUnavailableError("Redis")


def _drain(queue: asyncio.Queue[bytes]) -> None:
    while not queue.empty():
        queue.get_nowait()
