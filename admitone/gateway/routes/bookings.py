"""Booking routes after checkout: read, cancel, e-ticket (JSON or QR image), lookup.

The first three take an access token whose visitor made the booking, or a booking token from
lookup that names it; anyone else gets 404. Lookup needs no token and is rate-limited per
client address. (``POST /api/v1/bookings``, checkout, lives with the seat routes.)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import structlog
from litestar import Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from redis.exceptions import RedisError

from admitone.booking_core.booking_models import (
    BookingView,
    CancelOut,
    LookupIn,
    LookupOut,
    TicketOut,
)
from admitone.errors import RateLimitedError
from admitone.gateway.auth import booking_caller, services
from admitone.gateway.ratelimit import bucket_key, retry_after_header

log = structlog.get_logger(__name__)

_SECURITY: list[dict[str, list[str]]] = [{"accessToken": []}]
# Lookup: a burst of 5 tries, then one every 12 s (5 a minute) per client address. Enough for
# a fan who mistypes; far too slow to guess 10-character references.
LOOKUP_BURST = 5
LOOKUP_RATE_PER_SECOND = 5 / 60


@get("/api/v1/bookings/{booking_id:str}", tags=["booking"], security=_SECURITY,
     summary="A booking, as its owner sees it",
     responses={404: ResponseSpec(data_container=dict, description="BOOKING_NOT_FOUND: unknown, "
                                  "or not the caller's")})
async def get_booking(request: Request[Any, Any, Any], booking_id: str) -> BookingView:
    caller = await booking_caller(request)
    return await services(request).bookings.get(booking_id, caller)


@delete("/api/v1/bookings/{booking_id:str}", tags=["booking"], status_code=200,
        security=_SECURITY, summary="Cancel a confirmed booking by the cancellation policy",
        description="At least 24 h before the show: full refund; 2 to 24 h: half; under 2 h: "
                    "409 CANCELLATION_WINDOW_CLOSED. Asking again returns the same refund.")
async def cancel_booking(request: Request[Any, Any, Any], booking_id: str) -> CancelOut:
    caller = await booking_caller(request)
    return await services(request).bookings.cancel(booking_id, caller)


@get("/api/v1/bookings/{booking_id:str}/ticket", tags=["booking"], security=_SECURITY,
     summary="The e-ticket: JSON with a signed QR payload, or ?format=png the QR image",
     responses={200: ResponseSpec(data_container=TicketOut,
                                  description="The ticket (application/json) or its QR code "
                                              "(image/png with ?format=png)")})
async def get_ticket(
    request: Request[Any, Any, Any], booking_id: str,
    output: Annotated[Literal["json", "png"], Parameter(query="format")] = "json",
) -> Response[Any]:
    caller = await booking_caller(request)
    bookings = services(request).bookings
    headers = {"Cache-Control": "private, no-store"}
    if output == "png":
        image = await bookings.ticket_png(booking_id, caller)
        return Response(image, media_type="image/png", headers=headers)
    return Response(await bookings.ticket(booking_id, caller), headers=headers)


@post("/api/v1/bookings/lookup", tags=["booking"], status_code=200,
      summary="Find a booking by reference and e-mail; get a short-lived booking token",
      responses={429: ResponseSpec(data_container=dict, description="RATE_LIMITED, Retry-After")})
async def lookup_booking(request: Request[Any, Any, Any], data: LookupIn) -> LookupOut:
    state = services(request)
    client = request.client.host if request.client else "unknown"
    try:
        allowed, retry_after = await state.rate_limiter.take(
            bucket_key("lookup", client), LOOKUP_RATE_PER_SECOND, LOOKUP_BURST
        )
    except RedisError as exc:
        # Fail open: lookup only reads, and a fan should find a ticket while Redis is down.
        log.warning("rate_limiter_unavailable", limiter="lookup", error=str(exc))
        allowed, retry_after = True, 0.0
    if not allowed:
        raise RateLimitedError(retry_after_header(retry_after))
    return await state.bookings.lookup(data.reference, data.email)


ROUTES = [get_booking, cancel_booking, get_ticket, lookup_booking]
