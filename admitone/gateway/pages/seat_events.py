"""Live seat maps: ``GET /api/v1/shows/{showId}/seat-events``, Server-Sent Events fed by Redis.

Authentication. EventSource cannot send an ``Authorization`` header, and an access token in a
URL ends up in access logs, proxies' logs and browser history, where it would let anyone who
reads them lock and buy seats. So the page exchanges its token for a *stream ticket*
(``POST …/seat-events/ticket`` with ``Authorization: Bearer``): a random string stored in Redis
for ``TICKET_SECONDS`` that opens this one show's seat stream and nothing else. A leaked ticket
shows the seat changes of one show for a minute; it cannot lock, buy or read a booking. The
ticket may open several streams while it lives (EventSource reconnects with the same URL); once
it expired the page asks for a new one.

Fan-out. Every process keeps ONE Redis pub/sub connection (``SeatEventHub``) with a pattern
subscription to every show's channel (``booking_core.keys.seat_channel``), and hands each
message to the streams open on that show. A thousand open seat maps cost one Redis connection,
not a thousand. ``SeatEvents.changed`` publishes ``{"type", "showId", "seatIds"}`` after every
seat change commits; the stream forwards that JSON unchanged as event ``seats``.

Events: ``ready`` (subscribed: the page reloads the map once to close the gap between its first
load and the subscription), ``seats`` (a change), ``resync`` (this stream fell behind and lost
messages: reload the map), ``unavailable`` (Redis stopped answering: the page polls), ``bye``
(the stream ends after ``STREAM_SECONDS`` so that connections spread over new replicas; the
page opens a new one at once). A comment every ``KEEPALIVE_SECONDS`` keeps proxies from timing
the connection out.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import structlog
from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from admitone import errors
from admitone.booking_core.keys import seat_channel
from admitone.gateway.auth import require_access, services
from admitone.redis_client import RedisClient

log = structlog.get_logger(__name__)

TICKET_SECONDS = 60
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0
RECONNECT_MS = 3000
QUEUE_SIZE = 256  # messages a slow stream may fall behind before it is told to resync
SUBSCRIBE_TIMEOUT_SECONDS = 2.0
_TICKET = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
_HUB = "seat_event_hub"
_REDIS_DOWN = (RedisError, OSError)
# What a stream's queue carries besides messages: the hub failed, or the queue overflowed.
_FAILED = b"\x00failed"
_OVERFLOW = b"\x00overflow"


def stream_ticket_key(prefix: str, show_id: str, ticket: str) -> str:
    """Redis key of a seat-stream ticket (value: the visitor id). Same hash tag as the show."""
    return f"{prefix}:bc:{{show:{show_id}}}:stream-ticket:{ticket}"


class StreamTicketOut(msgspec.Struct, frozen=True, rename="camel"):
    """A ticket that opens the seat stream of one show until ``expires_at``."""

    ticket: str
    expires_at: datetime


class SeatEventHub:
    """One pattern subscription per process, fanned out to the open seat streams by show."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
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
        """Subscribe (once) and start the reader; raises a Redis error when Redis is down."""
        if self.running:
            return
        async with self._lock:
            if self.running:
                return
            pubsub = self.redis.pubsub()
            try:
                await pubsub.psubscribe(seat_channel(self.prefix, "*"))
                await _confirmed(pubsub)
            except BaseException:
                with suppress(*_REDIS_DOWN):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
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
                queue.put_nowait(_OVERFLOW)

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
                    queue.put_nowait(_FAILED)
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
    raise errors.DependencyUnavailableError("Redis")


def _drain(queue: asyncio.Queue[bytes]) -> None:
    while not queue.empty():
        queue.get_nowait()


def hub_of(request: Request[Any, Any, Any]) -> SeatEventHub:
    """The process's hub (made on first use; it stops by itself when no stream is open)."""
    state = services(request)
    found = state.extras.get(_HUB)
    if not isinstance(found, SeatEventHub):
        found = SeatEventHub(state.redis, state.settings.redis_key_prefix)
        state.extras[_HUB] = found
    return found


def _event(event: str, data: dict[str, Any] | bytes) -> ServerSentEventMessage:
    text = data.decode() if isinstance(data, bytes) else json.dumps(data, separators=(",", ":"))
    return ServerSentEventMessage(data=text, event=event)


async def seat_stream(
    hub: SeatEventHub, show_id: str, *, keepalive_seconds: float = KEEPALIVE_SECONDS,
    stream_seconds: float = STREAM_SECONDS,
) -> AsyncIterator[ServerSentEventMessage]:
    """``ready``, then every seat change of the show as ``seats`` until the stream's time is
    up (``bye``) or Redis stops answering (``unavailable``)."""
    deadline = time.monotonic() + stream_seconds
    try:
        async with hub.listen(show_id) as queue:
            yield _event("ready", {"showId": show_id})
            while (left := deadline - time.monotonic()) > 0:
                try:
                    data = await asyncio.wait_for(queue.get(), min(keepalive_seconds, left))
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keepalive")
                    continue
                if data == _FAILED:
                    yield _unavailable()
                    return
                yield _event("resync" if data == _OVERFLOW else "seats", data)
            yield _event("bye", {"showId": show_id})
    except (*_REDIS_DOWN, errors.DependencyUnavailableError) as exc:
        log.info("seat_stream_unavailable", show_id=show_id, error=type(exc).__name__)
        yield _unavailable()


def _unavailable() -> ServerSentEventMessage:
    err = errors.DependencyUnavailableError("Redis")
    return _event("unavailable", {"status": 503, "error": err.code, "title": err.title,
                                  "detail": err.detail})


@post(
    "/api/v1/shows/{show_id:str}/seat-events/ticket", tags=["booking"], status_code=201,
    security=[{"accessToken": []}],
    summary="Exchange the access token for a one-minute ticket that opens the seat stream",
    description="EventSource cannot send headers, and tokens in URLs end up in logs, so the "
    "seat stream takes this ticket in its query instead. It opens only this show's stream and "
    "expires after a minute; already open streams are not cut when it expires.",
)
async def stream_ticket(request: Request[Any, Any, Any], show_id: str) -> Response[bytes]:
    """A fresh ticket for the caller's show, kept in Redis for ``TICKET_SECONDS``."""
    claims = await require_access(request, show_id)
    ticket = secrets.token_urlsafe(24)
    state = services(request)
    key = stream_ticket_key(state.settings.redis_key_prefix, show_id, ticket)
    await state.redis.set(key, claims.sub, ex=TICKET_SECONDS)
    body = StreamTicketOut(ticket=ticket,
                           expires_at=datetime.now(UTC) + timedelta(seconds=TICKET_SECONDS))
    return Response(msgspec.json.encode(body), status_code=201, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@get(
    "/api/v1/shows/{show_id:str}/seat-events", tags=["booking"],
    summary="The show's seat changes as Server-Sent Events (needs a stream ticket)",
    description="Events: `ready` once subscribed; `seats` with `{type: SEAT_LOCKED | "
    "SEAT_RELEASED | SEAT_BOOKED, showId, seatIds}` for each change; `resync` when this stream "
    "fell behind (reload the seat map); `unavailable` when Redis stops answering (poll the seat "
    "map instead); `bye` before the stream ends after a few minutes (open a new one). 401 for a "
    "missing, unknown or expired ticket, 503 when Redis cannot be reached.",
)
async def seat_events(
    request: Request[Any, Any, Any], show_id: str,
    ticket: str = Parameter(query="ticket", default="", max_length=128),
) -> ServerSentEvent:
    """Fails before streaming (401, 503), so EventSource stops and the page takes over."""
    if not _TICKET.match(ticket):
        raise errors.TokenInvalidError("Send ?ticket= from POST …/seat-events/ticket")
    state = services(request)
    visitor = await state.redis.get(
        stream_ticket_key(state.settings.redis_key_prefix, show_id, ticket))
    if visitor is None:
        raise errors.TokenInvalidError("This stream ticket is unknown or has expired")
    hub = hub_of(request)
    await hub.ensure_running()
    return ServerSentEvent(seat_stream(hub, show_id), headers=_HEADERS,
                           retry_duration=RECONNECT_MS)


ROUTES = [stream_ticket, seat_events]
