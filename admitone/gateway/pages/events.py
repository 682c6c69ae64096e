"""``GET /api/v1/queue/{showId}/events``: the queue's progress as Server-Sent Events.

Each second the stream sends an event ``progress`` whose data is exactly the JSON of
``GET …/progress`` (the same for every fan, computed at most once a second per show and process
by the waiting-room service, however many streams are open). If the queue stops answering the
stream sends one ``unavailable`` event (a problem object) and ends; the browser reconnects by
itself, gets the 503, and the page falls back to polling with backoff. A stream lasts a few
minutes, then ends so that long-lived connections spread over restarted or new replicas.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog
from litestar import Request, get
from litestar.response import ServerSentEvent, ServerSentEventMessage
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from admitone import errors
from admitone.admission.services import AdmissionServices
from admitone.gateway.auth import services

log = structlog.get_logger(__name__)

INTERVAL_SECONDS = 1.0
STREAM_SECONDS = 300.0
RECONNECT_MS = 2000
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _admission(request: Request[Any, Any, Any]) -> AdmissionServices:
    found = services(request).admission
    if found is None:
        raise errors.QueueUnavailableError
    return found


def _unavailable(exc: Exception) -> ServerSentEventMessage:
    err = exc if isinstance(exc, errors.AdmitoneError) else errors.QueueUnavailableError()
    problem = {"status": 503, "error": err.code, "title": err.title, "detail": err.detail}
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
        except (errors.DependencyUnavailableError, *_REDIS_DOWN) as exc:
            log.info("progress_stream_unavailable", show_id=show_id, error=type(exc).__name__)
            yield _unavailable(exc)
            return
        except errors.AdmitoneError as exc:  # the room was removed or closed meanwhile
            log.info("progress_stream_ended", show_id=show_id, error=exc.code)
            return


@get(
    "/api/v1/queue/{show_id:str}/events", tags=["queue"], media_type="text/event-stream",
    summary="The queue's progress as Server-Sent Events (event `progress`, once a second)",
    description="Each `progress` event carries the JSON of `GET …/progress`. When the queue "
    "stops answering, one `unavailable` event (a problem object) ends the stream. Streams end "
    "after a few minutes; EventSource reconnects by itself.",
)
async def progress_events(request: Request[Any, Any, Any], show_id: str) -> ServerSentEvent:
    """Fails before streaming (404 unknown room, 503 queue unavailable) so that EventSource
    stops reconnecting and the page polls with its own backoff instead."""
    admission = _admission(request)
    first = await admission.rooms.progress_json(show_id)
    return ServerSentEvent(progress_stream(admission, show_id, first), headers=_HEADERS,
                           retry_duration=RECONNECT_MS)


ROUTES = [progress_events]
