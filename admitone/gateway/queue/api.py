"""Fans' queue as JSON and Server-Sent Events: join, status, leave, progress, the progress
stream, and the proof-of-work challenge. The waiting-room service does the work.

The progress stream (``GET …/events``) sends each second an event ``progress`` whose data is
exactly the JSON of ``GET …/progress`` (the same for every fan, computed at most once a second
per show and process however many streams are open). If the queue stops answering the stream
sends one ``unavailable`` event (a problem object) and ends; the browser reconnects by itself,
gets the 503, and the page falls back to polling with backoff. A stream lasts a few minutes,
then ends so that long-lived connections spread over restarted or new replicas.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog
from litestar import Request, Response, delete, get, post
from litestar.response import ServerSentEvent, ServerSentEventMessage

from admitone import errors
from admitone.admission.models import (
    ChallengeOut,
    DrawOut,
    IdentityCodeIn,
    IdentityTokenOut,
    IdentityVerifyIn,
    JoinOut,
    StatusOut,
)
from admitone.admission.ratelimit import retry_after_header
from admitone.admission.rooms import canonical_show_id
from admitone.admission.services import AdmissionServices
from admitone.booking_core.policy import lock_network
from admitone.gateway.answers import JsonAnswer, headers
from admitone.gateway.client import client_binding, client_ip
from admitone.gateway.deps import QueueRouteServices
from admitone.gateway.streams import stream_slot_middleware
from admitone.queue.store import JoinLimit

log = structlog.get_logger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
_NO_STORE = headers(cache_control="no-store")  # the same, spelled once for the hot routes
PROGRESS_HEADERS = headers(cache_control="public, max-age=1")  # also the fast lane's
TOKEN_HEADER = "x-queue-token"  # noqa: S105 - a header name, not a secret
INTERVAL_SECONDS = 1.0
STREAM_SECONDS = 300.0
RECONNECT_MS = 2000
_STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _binding(request: Request[Any, Any, Any], ip: str) -> str:
    return client_binding(ip, request.headers.get("user-agent", ""))


@post(
    "/api/v1/queue/{show_id:str}/join", tags=["queue"], status_code=200,
    summary="Join the queue (or keep your place with X-Queue-Token)",
)
async def join(
    request: Request[Any, Any, Any], show_id: str, queue_routes: QueueRouteServices
) -> Response[JoinOut]:
    settings = queue_routes.settings
    ip = client_ip(request)
    challenge = request.headers.get("x-pow-challenge", "")
    nonce = request.headers.get("x-pow-nonce", "")
    if bool(challenge) != bool(nonce):
        raise errors.ProofOfWorkInvalidError("Send both X-PoW-Challenge and X-PoW-Nonce")
    admission = queue_routes.admission
    identity = admission.identities.identity_of(
        show_id, identity_token=request.headers.get("x-identity-token"),
        frontend_header=request.headers.get("x-identity"),
    )
    out = await admission.rooms.join(
        show_id, binding=_binding(request, ip), queue_token=request.headers.get(TOKEN_HEADER),
        pow_answer=(challenge, nonce) if challenge else None, identity=identity,
        network=functools.partial(lock_network, ip),
        # Per client IP and show, a token bucket taken from in the join's own script call.
        limit=JoinLimit(ip, settings.queue_join_rate_per_second, settings.queue_join_burst),
    )
    return JsonAnswer(out, _NO_STORE)


@get(
    "/api/v1/queue/{show_id:str}/status", tags=["queue"],
    summary="Your place (keeps it alive), or your access token once admitted",
)
async def status(
    request: Request[Any, Any, Any], show_id: str, queue_routes: QueueRouteServices
) -> Response[StatusOut]:
    ip = client_ip(request)
    out = await queue_routes.admission.rooms.status(
        show_id, binding=_binding(request, ip), queue_token=request.headers.get(TOKEN_HEADER)
    )
    return JsonAnswer(out, _NO_STORE)


@delete("/api/v1/queue/{show_id:str}/leave", tags=["queue"], status_code=204,
        summary="Leave the queue at once")
async def leave(
    request: Request[Any, Any, Any], show_id: str, queue_routes: QueueRouteServices
) -> None:
    ip = client_ip(request)
    await queue_routes.admission.rooms.leave(
        show_id, binding=_binding(request, ip), queue_token=request.headers.get(TOKEN_HEADER)
    )


@get(
    "/api/v1/queue/{show_id:str}/progress", tags=["queue"],
    summary="The queue's progress, the same for every fan (cacheable for a second)",
)
async def progress(show_id: str, admission: AdmissionServices) -> Response[bytes]:
    body = await admission.rooms.progress_json(show_id)
    return JsonAnswer(body, PROGRESS_HEADERS)


@get(
    "/api/v1/queue/{show_id:str}/challenge", tags=["queue"],
    summary="A proof-of-work challenge for join (when the room asks for one)",
)
async def challenge(show_id: str, admission: AdmissionServices) -> Response[ChallengeOut]:
    out = await admission.rooms.challenge(show_id)
    return Response(out, headers=NO_STORE)


def _unavailable(exc: errors.AdmitoneError) -> ServerSentEventMessage:
    problem = {"status": 503, "error": exc.code, "title": exc.title, "detail": exc.detail}
    return ServerSentEventMessage(data=json.dumps(problem), event="unavailable")


async def progress_stream(
    admission: AdmissionServices, show_id: str, first: bytes, *,
    interval_seconds: float = INTERVAL_SECONDS, stream_seconds: float = STREAM_SECONDS,
) -> AsyncIterator[ServerSentEventMessage]:
    """``progress`` events every ``interval_seconds`` for ``stream_seconds``, starting with
    ``first``; one ``unavailable`` event and the end when the queue stops answering."""
    deadline = time.monotonic() + stream_seconds
    body = first
    while True:
        yield ServerSentEventMessage(data=body.decode(), event="progress")
        if time.monotonic() + interval_seconds > deadline:
            return
        await asyncio.sleep(interval_seconds)
        try:
            body = await admission.rooms.progress_json(show_id)
        except errors.DependencyUnavailableError as exc:
            log.info("progress_stream_unavailable", show_id=show_id, error=type(exc).__name__)
            yield _unavailable(exc)
            return
        except errors.AdmitoneError as exc:  # the room was removed or closed meanwhile
            log.info("progress_stream_ended", show_id=show_id, error=exc.code)
            return


@get(
    "/api/v1/queue/{show_id:str}/events", tags=["queue"], media_type="text/event-stream",
    middleware=[stream_slot_middleware],
    summary="The queue's progress as Server-Sent Events (event `progress`, once a second)",
    description="Each `progress` event carries the JSON of `GET …/progress`. When the queue "
    "stops answering, one `unavailable` event (a problem object) ends the stream. Streams end "
    "after a few minutes; EventSource reconnects by itself. 503 `TOO_MANY_STREAMS` (with "
    "Retry-After) past ADMITONE_STREAMS_PER_CLIENT streams from one client IP or "
    "ADMITONE_STREAMS_PER_PROCESS in one process.",
)
async def progress_events(show_id: str, admission: AdmissionServices) -> ServerSentEvent:
    """Fails before streaming (404 unknown room, 503 queue unavailable) so that EventSource
    stops reconnecting and the page polls with its own backoff instead."""
    first = await admission.rooms.progress_json(show_id)
    return ServerSentEvent(progress_stream(admission, show_id, first), headers=_STREAM_HEADERS,
                           retry_duration=RECONNECT_MS)


@get(
    "/api/v1/queue/{show_id:str}/draw", tags=["queue"],
    summary="The pre-queue draw: its commitment, then its seed and entries (anyone may check)",
)
async def published_draw(show_id: str, admission: AdmissionServices) -> Response[DrawOut]:
    out = await admission.draws.published(show_id)
    # Before the draw the answer changes once (at startsAt); after it, never.
    max_age = 5 if out.status == "COMMITTED" else 3600
    return Response(out, headers={"Cache-Control": f"public, max-age={max_age}"})


@post("/api/v1/queue/{show_id:str}/identity", tags=["queue"], status_code=202,
      summary="Send a one-time code that proves your e-mail to this queue (one place per person)")
async def send_identity_code(
    request: Request[Any, Any, Any], show_id: str, data: IdentityCodeIn,
    queue_routes: QueueRouteServices,
) -> Response[dict[str, bool]]:
    """Codes cost an e-mail each: five at once per client, then one every ten seconds."""
    ip = client_ip(request)
    allowed, retry = await queue_routes.rate_limiter.allows("identity", ip, 0.1, 5)
    if not allowed:
        raise errors.RateLimitedError(retry_after_header(retry))
    await queue_routes.admission.identities.send_email_code(
        canonical_show_id(show_id), data.email
    )
    return Response({"sent": True}, status_code=202, headers=NO_STORE)


@post("/api/v1/queue/{show_id:str}/identity/verify", tags=["queue"], status_code=200,
      summary="Trade the e-mailed code for an identity token (join with X-Identity-Token)")
async def verify_identity_code(
    show_id: str, data: IdentityVerifyIn, admission: AdmissionServices
) -> Response[IdentityTokenOut]:
    token = await admission.identities.verify_email_code(
        canonical_show_id(show_id), data.email, data.code
    )
    return Response(IdentityTokenOut(identity_token=token), headers=NO_STORE)


ROUTES = [join, status, leave, progress, challenge, progress_events, published_draw,
          send_identity_code, verify_identity_code]
