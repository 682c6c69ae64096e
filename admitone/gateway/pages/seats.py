"""The seat selection page, the hold-and-checkout page, and the beacon-friendly lock release.

``GET /shows/{showId}/seats`` and ``GET /shows/{showId}/checkout`` are server-rendered shells;
their scripts (``static/js/seatmap.js``, ``static/js/hold.js``) call the booking API with the
access token the queue page keeps in ``sessionStorage``. No SQL or Redis here: the catalog
and the seat service do the work.

``POST /api/v1/bookings/lock/{lockId}/release`` is ``DELETE …/lock/{lockId}`` for
``navigator.sendBeacon``, which can only POST and cannot set headers: the access token comes in
the body (form field or JSON ``token``), never in the URL, where access logs would keep it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import msgspec
import structlog
from litestar import Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.response import Redirect
from redis.exceptions import RedisError

from admitone import errors
from admitone.booking_core.models import (
    ReleaseOut,
)
from admitone.gateway import i18n
from admitone.gateway.auth import services
from admitone.gateway.pages.queue_view import ShowInfo, seats_path
from admitone.gateway.pages.rendering import render_page
from admitone.gateway.pages.seats_view import (
    SeatPageShow,
    build_seat_view,
    checkout_path,
)

log = structlog.get_logger(__name__)

SHOW_CACHE_SECONDS = 30.0
_SHOW_CACHE_MAX = 2048
_FORM = "application/x-www-form-urlencoded"
_MAX_TOKEN_CHARS = 4096
_DATABASE_DOWN = (asyncpg.PostgresConnectionError, asyncpg.exceptions.CannotConnectNowError,
                  asyncpg.exceptions.TooManyConnectionsError, OSError, TimeoutError)
_show_cache: dict[str, tuple[float, SeatPageShow]] = {}


class BeaconReleaseIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The JSON body of the beacon release: the access token that made the lock."""

    token: str


async def _show(request: Request[Any, Any, Any], show_id: str) -> SeatPageShow | None:
    """The show for the page header (cached briefly); None for an unknown show. When the
    catalog cannot be reached the page still renders (its script then reports the outage)."""
    cached = _show_cache.get(show_id)
    if cached is not None and time.monotonic() - cached[0] < SHOW_CACHE_SECONDS:
        return cached[1]
    state = services(request)
    limit = state.settings.max_seats_per_lock
    try:
        details = await state.catalog.show_details(show_id)
        show = await state.catalog.get_show(show_id)
    except errors.NotFoundError:
        return None
    except _DATABASE_DOWN as exc:
        log.warning("seat_page_catalog_unavailable", show_id=show_id[:64], error=repr(exc))
        info = ShowInfo(id=show_id, title="", show_time=None, timezone=None, theater=None,
                        city=None)
        return SeatPageShow(info=info, screen=None, max_seats=limit)
    info = ShowInfo(id=details["id"], title=details["title"], show_time=details["showTime"],
                    timezone=details["timezone"], theater=details["theater"],
                    city=details["city"])
    found = SeatPageShow(info=info, screen=details["screen"],
                         max_seats=min(show.max_seats_per_visitor, limit))
    if len(_show_cache) >= _SHOW_CACHE_MAX:
        _show_cache.clear()
    _show_cache[show_id] = (time.monotonic(), found)
    return found


async def _has_queue(request: Request[Any, Any, Any], show_id: str) -> bool:
    """Whether fans of the show get access tokens from a waiting room (else a fan without a
    token cannot be sent anywhere to get one). Assumed so when it cannot be read."""
    admission = services(request).admission
    if admission is None:
        return False
    try:
        room = await admission.settings.get(show_id)
    except errors.NotFoundError:
        return False
    except (*_DATABASE_DOWN, RedisError, errors.DependencyUnavailableError):
        return True
    return room.enabled


async def _page(request: Request[Any, Any, Any], show_id: str, template: str, title_key: str,
                path_of: Callable[[str], str]) -> Response[Any]:
    loc = i18n.locale_for(request)
    show = await _show(request, show_id)
    if show is None:
        return render_page(request, loc, "seats/not_found.html",
                           page_title=loc.t("seats.not_found_title"), status_code=404)
    if show.info.id != show_id:  # one spelling of the URL: sessionStorage keys use it
        query = f"?{request.url.query}" if request.url.query else ""
        return Redirect(f"{path_of(show.info.id)}{query}", status_code=301)
    show = replace(show, has_queue=await _has_queue(request, show.info.id))
    view = build_seat_view(loc, show, lock_seconds=services(request).settings.lock_seconds)
    return render_page(request, loc, template,
                       page_title=loc.t(title_key, title=view.show_title), view=view)


@get("/shows/{show_id:str}/seats", tags=["pages"], summary="The seat selection page (HTML)",
     media_type="text/html")
async def seats_page(request: Request[Any, Any, Any], show_id: str) -> Response[Any]:
    """Seat map, legend, selection and "Hold seats"; live while open."""
    return await _page(request, show_id, "seats/page.html", "seats.page_title",
                       seats_path)


@get("/shows/{show_id:str}/checkout", tags=["pages"],
     summary="The hold and checkout page (HTML)", media_type="text/html")
async def checkout_page(request: Request[Any, Any, Any], show_id: str) -> Response[Any]:
    """The held seats with their countdown, payment method, e-mail and "Pay"."""
    return await _page(request, show_id, "checkout/page.html", "seats.checkout.page_title",
                       checkout_path)


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
async def release_by_beacon(request: Request[Any, Any, Any], lock_id: str) -> ReleaseOut:
    """Release the caller's lock; the same answers as ``DELETE …/lock/{lockId}``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    token = _token_from(content_type, await request.body())
    state = services(request)
    claims = state.tokens.verify_access_token(token, None)
    if state.revocations is not None and await state.revocations.is_revoked(claims):
        raise errors.TokenInvalidError("This access token has been revoked")
    return await state.seats.release_lock(claims.sub, lock_id)


ROUTES = [seats_page, checkout_page, release_by_beacon]
