"""Bookings as JSON: checkout, then read, cancel (and what cancelling would refund), the
e-ticket (JSON or QR image), and lookup by reference and e-mail.

Reading, cancelling and the ticket take an access token whose visitor made the booking, or a
booking token from lookup that names it; anyone else gets 404. Lookup needs no token and is
rate-limited per client address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from litestar import Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from admitone.admission.ratelimit import (
    LOOKUP_BURST,
    LOOKUP_RATE_PER_SECOND,
    RateLimiter,
    retry_after_header,
)
from admitone.admission.services import AdmissionServices
from admitone.booking_core.booking_models import (
    BookingView,
    CancelOut,
    LookupIn,
    LookupOut,
    TicketOut,
)
from admitone.booking_core.bookings import BookingService
from admitone.booking_core.checkout import CheckoutService
from admitone.booking_core.models import CheckoutIn, CheckoutOut
from admitone.booking_core.policy import lock_network
from admitone.errors import RateLimitedError
from admitone.gateway.bookings.view import CancellationPreview, preview_cancellation
from admitone.gateway.client import client_ip
from admitone.gateway.guards import (
    ACCESS_SECURITY,
    access_guard,
    booking_caller,
    booking_guard,
    require_access,
)
from admitone.settings import Settings


@post(
    "/api/v1/bookings",
    tags=["booking"],
    status_code=201,
    security=ACCESS_SECURITY, guards=[access_guard],
    summary="Check out a lock: booking PENDING, payment INITIATED (needs Idempotency-Key)",
    responses={201: ResponseSpec(data_container=CheckoutOut, description="Booking created",
                                 generate_examples=False)},
)
async def checkout(
    request: Request[Any, Any, Any], data: CheckoutIn, admission: AdmissionServices,
    checkout: CheckoutService, settings: Settings,
) -> Response[bytes]:
    claims = await require_access(request, admission, None)
    network = lock_network(client_ip(request))
    stored = await checkout.checkout(
        claims.sub, request.headers.get("idempotency-key"), data, network
    )
    return Response(stored.body, status_code=stored.status_code, media_type="application/json")


@get("/api/v1/bookings/{booking_id:str}", tags=["booking"], security=ACCESS_SECURITY,
     guards=[booking_guard],
     summary="A booking, as its owner sees it (404 BOOKING_NOT_FOUND: unknown, or not the "
             "caller's)")
async def get_booking(
    request: Request[Any, Any, Any], booking_id: str, admission: AdmissionServices,
    bookings: BookingService,
) -> BookingView:
    return await bookings.get(booking_id, await booking_caller(request, admission))


@delete("/api/v1/bookings/{booking_id:str}", tags=["booking"], status_code=200,
        security=ACCESS_SECURITY, guards=[booking_guard],
        summary="Cancel a confirmed booking by the cancellation policy",
        description="At least 24 h before the show: full refund; 2 to 24 h: half; under 2 h: "
                    "409 CANCELLATION_WINDOW_CLOSED. Asking again returns the same refund.")
async def cancel_booking(
    request: Request[Any, Any, Any], booking_id: str, admission: AdmissionServices,
    bookings: BookingService,
) -> CancelOut:
    return await bookings.cancel(booking_id, await booking_caller(request, admission))


@get("/api/v1/bookings/{booking_id:str}/cancellation", tags=["booking"],
     security=ACCESS_SECURITY, guards=[booking_guard],
     summary="What cancelling now would refund, by the cancellation policy",
     description="`allowed` false with `reason` WINDOW_CLOSED under 2 h before the show, "
                 "NOT_CONFIRMED or ALREADY_CANCELLED by the booking's state. The DELETE decides "
                 "by the database clock at that moment, so a preview taken just before a "
                 "boundary may differ.")
async def cancellation_preview(
    request: Request[Any, Any, Any], booking_id: str, admission: AdmissionServices,
    bookings: BookingService,
) -> CancellationPreview:
    booking = await bookings.get(booking_id, await booking_caller(request, admission))
    return preview_cancellation(booking, datetime.now(UTC).replace(microsecond=0))


@get("/api/v1/bookings/{booking_id:str}/ticket", tags=["booking"], security=ACCESS_SECURITY,
     guards=[booking_guard],
     summary="The e-ticket: JSON with a signed QR payload, or ?format=png the QR image",
     responses={200: ResponseSpec(data_container=TicketOut,
                                  description="The ticket (application/json) or its QR code "
                                              "(image/png with ?format=png)",
                                  generate_examples=False)})
async def get_ticket(
    request: Request[Any, Any, Any], booking_id: str, admission: AdmissionServices,
    bookings: BookingService,
    output: Annotated[Literal["json", "png"], Parameter(query="format")] = "json",
) -> Response[Any]:
    caller = await booking_caller(request, admission)
    headers = {"Cache-Control": "private, no-store"}
    if output == "png":
        image = await bookings.ticket_png(booking_id, caller)
        return Response(image, media_type="image/png", headers=headers)
    return Response(await bookings.ticket(booking_id, caller), headers=headers)


@post("/api/v1/bookings/lookup", tags=["booking"], status_code=200,
      summary="Find a booking by reference and e-mail; get a short-lived booking token")
async def lookup_booking(
    request: Request[Any, Any, Any], data: LookupIn, settings: Settings,
    rate_limiter: RateLimiter, bookings: BookingService,
) -> LookupOut:
    # Fails open: lookup only reads, and a fan should find a ticket while Redis is down.
    allowed, retry_after = await rate_limiter.allows(
        "lookup", client_ip(request), LOOKUP_RATE_PER_SECOND,
        LOOKUP_BURST)
    if not allowed:
        raise RateLimitedError(retry_after_header(retry_after))
    return await bookings.lookup(data.reference, data.email)


ROUTES = [checkout, get_booking, cancel_booking, cancellation_preview, get_ticket,
          lookup_booking]
