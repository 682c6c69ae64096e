"""One place per person: a fan proves an e-mail address to a show's queue with a one-time
code, and joins with the identity token it gets (``X-Identity-Token``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post

from admitone.admission.models import IdentityCodeIn, IdentityTokenOut, IdentityVerifyIn
from admitone.admission.rooms import canonical_show_id
from admitone.admission.services import AdmissionServices
from admitone.errors import RateLimitedError
from admitone.gateway.client import client_ip
from admitone.gateway.ratelimit import RateLimiter, bucket_key, retry_after_header
from admitone.settings import Settings

_NO_STORE = {"Cache-Control": "no-store"}


async def _limit(request: Request[Any, Any, Any], settings: Settings,
                 rate_limiter: RateLimiter) -> None:
    """Codes cost an e-mail each: five at once per client, then one every ten seconds."""
    ip = client_ip(request, settings.trusted_proxy_hops)
    allowed, retry = await rate_limiter.take(bucket_key("identity", ip), 0.1, 5)
    if not allowed:
        raise RateLimitedError(retry_after_header(retry))


@post("/api/v1/queue/{show_id:str}/identity", tags=["queue"], status_code=202,
      summary="Send a one-time code that proves your e-mail to this queue (one place per person)")
async def send_identity_code(
    request: Request[Any, Any, Any], show_id: str, data: IdentityCodeIn, *,
    settings: Settings, admission: AdmissionServices, rate_limiter: RateLimiter,
) -> Response[dict[str, bool]]:
    await _limit(request, settings, rate_limiter)
    await admission.identities.send_email_code(canonical_show_id(show_id), data.email)
    return Response({"sent": True}, status_code=202, headers=_NO_STORE)


@post("/api/v1/queue/{show_id:str}/identity/verify", tags=["queue"], status_code=200,
      summary="Trade the e-mailed code for an identity token (join with X-Identity-Token)")
async def verify_identity_code(
    show_id: str, data: IdentityVerifyIn, admission: AdmissionServices
) -> Response[IdentityTokenOut]:
    token = await admission.identities.verify_email_code(
        canonical_show_id(show_id), data.email, data.code
    )
    return Response(IdentityTokenOut(identity_token=token), headers=_NO_STORE)


ROUTES = [send_identity_code, verify_identity_code]
