"""Fans' queue routes (CONTRACT.md "Fans: the queue"): join, status, leave, progress, and the
proof-of-work challenge. No Redis or SQL here: the waiting-room service does the work."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response, delete, get, post
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from admitone.admission.models import ChallengeOut, JoinOut, StatusOut
from admitone.admission.rooms import canonical_show_id
from admitone.admission.services import AdmissionServices
from admitone.errors import ProofOfWorkInvalidError, RateLimitedError
from admitone.gateway.auth import services
from admitone.gateway.client import client_binding, client_ip
from admitone.gateway.ratelimit import bucket_key, retry_after_header

_NO_STORE = {"Cache-Control": "no-store"}
_TOKEN_HEADER = "x-queue-token"  # noqa: S105 - a header name, not a secret


def admission(request: Request[Any, Any, Any]) -> AdmissionServices:
    found = services(request).admission
    if found is None:  # open_services always builds it; a hand-made Services may not
        raise RuntimeError("the waiting room is not set up in this process")
    return found


def _binding(request: Request[Any, Any, Any], ip: str) -> str:
    return client_binding(ip, request.headers.get("user-agent", ""))


async def _limit_joins(request: Request[Any, Any, Any], ip: str) -> None:
    """Per client IP, a Redis token bucket; if Redis is down the join itself decides."""
    state = services(request)
    settings = state.settings
    try:
        allowed, retry = await state.rate_limiter.take(
            bucket_key("join", ip), settings.queue_join_rate_per_second, settings.queue_join_burst
        )
    except (RedisConnectionError, RedisTimeoutError, OSError):
        return
    if not allowed:
        raise RateLimitedError(retry_after_header(retry))


@post(
    "/api/v1/queue/{show_id:str}/join", tags=["queue"], status_code=200,
    summary="Join the queue (or keep your place with X-Queue-Token)",
)
async def join(request: Request[Any, Any, Any], show_id: str) -> Response[JoinOut]:
    structlog.contextvars.bind_contextvars(show_id=show_id[:64])
    ip = client_ip(request, services(request).settings.trusted_proxy_hops)
    await _limit_joins(request, ip)
    challenge = request.headers.get("x-pow-challenge", "")
    nonce = request.headers.get("x-pow-nonce", "")
    if bool(challenge) != bool(nonce):
        raise ProofOfWorkInvalidError("Send both X-PoW-Challenge and X-PoW-Nonce")
    rooms = admission(request)
    identity = rooms.identities.identity_of(
        canonical_show_id(show_id), identity_token=request.headers.get("x-identity-token"),
        frontend_header=request.headers.get("x-identity"),
    )
    out = await rooms.rooms.join(
        show_id, binding=_binding(request, ip), queue_token=request.headers.get(_TOKEN_HEADER),
        pow_answer=(challenge, nonce) if challenge else None, identity=identity,
    )
    return Response(out, headers=_NO_STORE)


@get(
    "/api/v1/queue/{show_id:str}/status", tags=["queue"],
    summary="Your place (keeps it alive), or your access token once admitted",
)
async def status(request: Request[Any, Any, Any], show_id: str) -> Response[StatusOut]:
    structlog.contextvars.bind_contextvars(show_id=show_id[:64])
    ip = client_ip(request, services(request).settings.trusted_proxy_hops)
    out = await admission(request).rooms.status(
        show_id, binding=_binding(request, ip), queue_token=request.headers.get(_TOKEN_HEADER)
    )
    return Response(out, headers=_NO_STORE)


@delete("/api/v1/queue/{show_id:str}/leave", tags=["queue"], status_code=204,
        summary="Leave the queue at once")
async def leave(request: Request[Any, Any, Any], show_id: str) -> None:
    structlog.contextvars.bind_contextvars(show_id=show_id[:64])
    ip = client_ip(request, services(request).settings.trusted_proxy_hops)
    await admission(request).rooms.leave(
        show_id, binding=_binding(request, ip), queue_token=request.headers.get(_TOKEN_HEADER)
    )


@get(
    "/api/v1/queue/{show_id:str}/progress", tags=["queue"],
    summary="The queue's progress, the same for every fan (cacheable for a second)",
)
async def progress(request: Request[Any, Any, Any], show_id: str) -> Response[bytes]:
    body = await admission(request).rooms.progress_json(show_id)
    return Response(body, media_type="application/json",
                    headers={"Cache-Control": "public, max-age=1"})


@get(
    "/api/v1/queue/{show_id:str}/challenge", tags=["queue"],
    summary="A proof-of-work challenge for join (when the room asks for one)",
)
async def challenge(request: Request[Any, Any, Any], show_id: str) -> Response[ChallengeOut]:
    out = await admission(request).rooms.challenge(show_id)
    return Response(out, headers=_NO_STORE)


ROUTES = [join, status, leave, progress, challenge]
