"""Seats as JSON and Server-Sent Events: the seat map, locks (and their beacon release), and
the live seat stream with the ticket that opens it. Each takes the show's access token.

Live seat maps. EventSource cannot send an ``Authorization`` header, so the page first
exchanges its access token for a one-minute *stream ticket* (``POST …/seat-events/ticket``),
then opens ``GET …/seat-events?ticket=``. The stream's events: ``ready`` (subscribed: the page
reloads the map once to close the gap between its first load and the subscription), ``seats``
(a change), ``resync`` (this stream fell behind and lost messages: reload the map),
``unavailable`` (Redis stopped answering: the page polls), ``bye`` (the stream ends after
``STREAM_SECONDS`` so that connections spread over new replicas; the page opens a new one at
once). A comment every ``KEEPALIVE_SECONDS`` keeps proxies from timing the connection out. The
process's one Redis subscription and the tickets live in ``booking_core.seat_stream``.

The beacon release (``POST …/lock/{lockId}/release``) is ``DELETE …/lock/{lockId}`` for
``navigator.sendBeacon``, which can only POST and cannot set headers: the access token comes in
the body (form field or JSON ``token``), never in the URL, where access logs would keep it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import msgspec
import structlog
from litestar import Request, Response, delete, get, post, put
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from admitone import errors
from admitone.admission.services import AdmissionServices
from admitone.booking_core.models import ExtendOut, LockIn, LockOut, ReleaseOut, SeatMap
from admitone.booking_core.policy import lock_network
from admitone.booking_core.seat_stream import FAILED, OVERFLOW, SeatEventHub, StreamTickets
from admitone.gateway.client import client_ip
from admitone.gateway.deps import SeatRouteServices
from admitone.gateway.device import device_id
from admitone.gateway.guards import (
    ACCESS_SECURITY,
    access_guard,
    require_access,
    verified_access,
)
from admitone.gateway.streams import stream_slot_middleware

log = structlog.get_logger(__name__)

KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0
RECONNECT_MS = 3000
_TICKET = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
_FORM = "application/x-www-form-urlencoded"
_MAX_TOKEN_CHARS = 4096


@get(
    "/api/v1/shows/{show_id:str}/seats",
    tags=["booking"],
    summary="The show's seat map",
    security=ACCESS_SECURITY, guards=[access_guard],
    responses={200: ResponseSpec(data_container=SeatMap, description="Seats and their states",
                                 generate_examples=False)},
)
async def seat_map(
    request: Request[Any, Any, Any], show_id: str, seat_routes: SeatRouteServices
) -> Response[bytes]:
    claims = await require_access(request, seat_routes.admission, show_id)
    body = await seat_routes.seats.seat_map_json(show_id, viewer=claims.sub)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


@post(
    "/api/v1/bookings/lock",
    tags=["booking"],
    status_code=200,
    security=ACCESS_SECURITY, guards=[access_guard],
    summary="Lock seats, all or nothing",
)
async def lock_seats(
    request: Request[Any, Any, Any], data: LockIn, seat_routes: SeatRouteServices,
) -> LockOut:
    """The show's seat limit counts the visitor's seats and, when the browser sends the
    `admitone_device` cookie the fan's pages set, the seats of that device's live locks and
    bookings (409 `SEAT_LIMIT_EXCEEDED`, `countedBy` says which); live locks from one client
    network are capped too (409 `NETWORK_SEAT_LIMIT`)."""
    claims = await require_access(request, seat_routes.admission, data.show_id)
    network = lock_network(client_ip(request))
    return await seat_routes.seats.lock_seats(claims.sub, data, network,
                                              device=device_id(request))


@put(
    "/api/v1/bookings/lock/{lock_id:str}/extend",
    tags=["booking"],
    security=ACCESS_SECURITY, guards=[access_guard],
    summary="Extend a lock (410 once it expired)",
)
async def extend_lock(
    request: Request[Any, Any, Any], lock_id: str, seat_routes: SeatRouteServices
) -> ExtendOut:
    claims = await require_access(request, seat_routes.admission, None)
    return await seat_routes.seats.extend_lock(claims.sub, lock_id)


@delete(
    "/api/v1/bookings/lock/{lock_id:str}",
    tags=["booking"],
    status_code=200,
    security=ACCESS_SECURITY, guards=[access_guard],
    summary="Release a lock",
)
async def release_lock(
    request: Request[Any, Any, Any], lock_id: str, seat_routes: SeatRouteServices
) -> ReleaseOut:
    claims = await require_access(request, seat_routes.admission, None)
    return await seat_routes.seats.release_lock(claims.sub, lock_id)


class BeaconReleaseIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The JSON body of the beacon release: the access token that made the lock."""

    token: str


def _token_from(content_type: str, body: bytes) -> str:
    if content_type == _FORM:
        try:
            fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
        except ValueError:
            raise ValidationException(detail="Too many form fields") from None
        token = fields.get("token", [""])[0]
    else:
        try:
            token = msgspec.json.decode(body, type=BeaconReleaseIn).token
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
            raise ValidationException(detail=f"Invalid body: {exc}") from None
    if not token or len(token) > _MAX_TOKEN_CHARS:
        raise errors.TokenInvalidError("Send the access token as the body's 'token'")
    return token


class _BeaconOperation(Operation):
    """Documents the two bodies the beacon release reads (it parses them itself)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        token = Schema(type=OpenAPIType.OBJECT, required=["token"], properties={
            "token": Schema(type=OpenAPIType.STRING, description="the access token")})
        self.request_body = RequestBody(required=True, content={
            _FORM: OpenAPIMediaType(schema=token),
            "application/json": OpenAPIMediaType(schema=token),
        })


@post(
    "/api/v1/bookings/lock/{lock_id:str}/release", tags=["booking"], status_code=200,
    operation_class=_BeaconOperation,
    summary="Release a lock from navigator.sendBeacon (token in the body)",
    description="The same as `DELETE /api/v1/bookings/lock/{lockId}` for pages that are being "
    "closed: `sendBeacon` can only POST and cannot send headers, so the access token comes as "
    "the body's `token` (form-encoded or JSON), never in the URL.",
)
async def release_by_beacon(
    request: Request[Any, Any, Any], lock_id: str, seat_routes: SeatRouteServices
) -> ReleaseOut:
    """Release the caller's lock; the same answers as ``DELETE …/lock/{lockId}``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    token = _token_from(content_type, await request.body())
    claims = await verified_access(seat_routes.admission, token, None)
    return await seat_routes.seats.release_lock(claims.sub, lock_id)


def _event(event: str, data: dict[str, Any] | bytes) -> ServerSentEventMessage:
    text = data.decode() if isinstance(data, bytes) else json.dumps(data, separators=(",", ":"))
    return ServerSentEventMessage(data=text, event=event)


def _unavailable() -> ServerSentEventMessage:
    err = errors.DependencyUnavailableError("Redis")
    return _event("unavailable", {"status": 503, "error": err.code, "title": err.title,
                                  "detail": err.detail})


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
                if data == FAILED:
                    yield _unavailable()
                    return
                yield _event("resync" if data == OVERFLOW else "seats", data)
            yield _event("bye", {"showId": show_id})
    except errors.DependencyUnavailableError as exc:
        log.info("seat_stream_unavailable", show_id=show_id, error=type(exc).__name__)
        yield _unavailable()


@post(
    "/api/v1/shows/{show_id:str}/seat-events/ticket", tags=["booking"], status_code=201,
    security=ACCESS_SECURITY, guards=[access_guard],
    summary="Exchange the access token for a one-minute ticket that opens the seat stream",
    description="EventSource cannot send headers, and tokens in URLs end up in logs, so the "
    "seat stream takes this ticket in its query instead. It opens only this show's stream and "
    "expires after a minute; already open streams are not cut when it expires.",
)
async def stream_ticket(
    request: Request[Any, Any, Any], show_id: str, admission: AdmissionServices,
    stream_tickets: StreamTickets,
) -> Response[bytes]:
    """A fresh ticket for the caller's show."""
    claims = await require_access(request, admission, show_id)
    body = await stream_tickets.issue(show_id, claims.sub)
    return Response(msgspec.json.encode(body), status_code=201, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@get(
    "/api/v1/shows/{show_id:str}/seat-events", tags=["booking"],
    middleware=[stream_slot_middleware],
    summary="The show's seat changes as Server-Sent Events (needs a stream ticket)",
    description="Events: `ready` once subscribed; `seats` with `{type: SEAT_LOCKED | "
    "SEAT_RELEASED | SEAT_BOOKED, showId, seatIds}` for each change; `resync` when this stream "
    "fell behind (reload the seat map); `unavailable` when Redis stops answering (poll the seat "
    "map instead); `bye` before the stream ends after a few minutes (open a new one). 401 for a "
    "missing, unknown or expired ticket, 503 when Redis cannot be reached, 503 "
    "`TOO_MANY_STREAMS` (with Retry-After) past the caps on open streams per client IP and "
    "per process.",
)
async def seat_events(
    show_id: str, stream_tickets: StreamTickets, seat_hub: SeatEventHub,
    ticket: str = Parameter(query="ticket", default="", max_length=128),
) -> ServerSentEvent:
    """Fails before streaming (401, 503), so EventSource stops and the page takes over."""
    if not _TICKET.match(ticket):
        raise errors.TokenInvalidError("Send ?ticket= from POST …/seat-events/ticket")
    if await stream_tickets.holder(show_id, ticket) is None:
        raise errors.TokenInvalidError("This stream ticket is unknown or has expired")
    await seat_hub.ensure_running()
    return ServerSentEvent(seat_stream(seat_hub, show_id), headers=_STREAM_HEADERS,
                           retry_duration=RECONNECT_MS)


ROUTES = [seat_map, lock_seats, extend_lock, release_lock, release_by_beacon, stream_ticket,
          seat_events]
