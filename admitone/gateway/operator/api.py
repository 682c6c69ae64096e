"""The operator's JSON API under ``/api/v1/admin``, behind the operator token: the catalog
(movies, theaters, screens, shows) and waiting rooms (set up, change live, read stats, revoke
a visitor). Every waiting-room change is written to the audit log with who and what."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Request, Router, get, patch, post, put
from litestar.params import Parameter

from admitone import errors
from admitone.admission.models import RoomStats, WaitingRoomIn, WaitingRoomPatch
from admitone.admission.services import AdmissionServices
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.models import (
    Movie,
    MovieIn,
    Screen,
    ScreenIn,
    Show,
    ShowIn,
    Theater,
    TheaterIn,
)
from admitone.booking_core.payments.models import RefundOut, RefundRetryOut, RefundState
from admitone.booking_core.payments.providers import ProviderPayments
from admitone.booking_core.review import ReviewItem, ReviewOut, ReviewService
from admitone.gateway.client import client_ip
from admitone.gateway.guards import OPERATOR_SECURITY, operator_guard
from admitone.gateway.payments.api import problem
from admitone.queue.models import WaitingRoom
from admitone.settings import Settings

_NAME = re.compile(r"^[\w .@-]{1,64}$")


def actor(request: Request[Any, Any, Any], settings: Settings) -> str:
    """Who made the change: ``operator`` (the shared token), with the name an operator tool
    sends as ``X-Operator`` and the client's address."""
    name = request.headers.get("x-operator", "")
    ip = client_ip(request)
    who = f"operator:{name}" if _NAME.match(name) else "operator"
    return f"{who}@{ip}"


# The catalog ---------------------------------------------------------------------------------


@post("/movies", summary="Create a movie")
async def create_movie(data: MovieIn, catalog: CatalogService) -> Movie:
    return await catalog.create_movie(data)


@post("/theaters", summary="Create a theater")
async def create_theater(data: TheaterIn, catalog: CatalogService) -> Theater:
    return await catalog.create_theater(data)


@post("/theaters/{theater_id:str}/screens", summary="Create a screen with its seat layout")
async def create_screen(theater_id: str, data: ScreenIn, catalog: CatalogService) -> Screen:
    return await catalog.create_screen(theater_id, data)


@post("/shows", summary="Create a show; its seats start AVAILABLE")
async def create_show(data: ShowIn, catalog: CatalogService) -> Show:
    return await catalog.create_show(data)


@get("/shows/{show_id:str}", summary="A show")
async def get_show(show_id: str, catalog: CatalogService) -> Show:
    return await catalog.get_show(show_id)


# Waiting rooms -------------------------------------------------------------------------------


@put("/shows/{show_id:str}/waiting-room", summary="Set up (or replace) a show's waiting room")
async def put_room(
    request: Request[Any, Any, Any], show_id: str, data: WaitingRoomIn,
    admission: AdmissionServices, settings: Settings,
) -> WaitingRoom:
    return await admission.settings.put(show_id, data, actor(request, settings))


@patch("/shows/{show_id:str}/waiting-room",
       summary="Change some settings live (rate, capacity, paused…): effective within 2 s")
async def patch_room(
    request: Request[Any, Any, Any], show_id: str, data: WaitingRoomPatch,
    admission: AdmissionServices, settings: Settings,
) -> WaitingRoom:
    return await admission.settings.patch(show_id, data, actor(request, settings))


@get("/shows/{show_id:str}/waiting-room", summary="A show's waiting-room settings")
async def get_room(show_id: str, admission: AdmissionServices) -> WaitingRoom:
    return await admission.settings.get(show_id)


@get("/shows/{show_id:str}/waiting-room/stats", summary="Waiting, active, admitted, rates")
async def room_stats(show_id: str, admission: AdmissionServices) -> RoomStats:
    return await admission.rooms.stats(show_id)


@post("/shows/{show_id:str}/visitors/{visitor_id:str}/revoke", status_code=204,
      summary="Revoke a visitor: its access token stops working at once")
async def revoke_visitor(
    request: Request[Any, Any, Any], show_id: str, visitor_id: str,
    admission: AdmissionServices, settings: Settings,
) -> None:
    await admission.revocations.revoke(show_id, visitor_id, actor(request, settings))


# Refunds the provider refused ---------------------------------------------------------------


@get(
    "/refunds",
    summary="Refunds by status: FAILED ones were refused by the provider after every retry",
    description=(
        "A refund the provider refuses is tried again by the outbox worker with backoff, up to "
        "5 times; then it is FAILED, with the provider's last answer in `lastError` and an audit "
        "row (`refund`, `FAILED`). `POST …/refunds/{refundId}/retry` sends it again."
    ),
    responses={401: problem("OPERATOR_UNAUTHORIZED")},
)
async def list_refunds(
    provider_payments: ProviderPayments, status: RefundState = "FAILED",
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> list[RefundOut]:
    return await provider_payments.refunds(status, limit)


@post(
    "/refunds/{refund_id:str}/retry", status_code=202,
    summary="Send a FAILED refund to the provider again",
    responses={401: problem("OPERATOR_UNAUTHORIZED"), 404: problem("NOT_FOUND: no such refund"),
               409: problem("CONFLICT: the refund is not FAILED")},
)
async def retry_refund(
    request: Request[Any, Any, Any], provider_payments: ProviderPayments, refund_id: str,
    settings: Settings,
) -> RefundRetryOut:
    return await provider_payments.retry_refund(refund_id, actor(request, settings))


# Bookings held for fraud review -------------------------------------------------------------


def _reviews(reviews: ReviewService | None) -> ReviewService:
    if reviews is None:
        raise errors.DependencyUnavailableError("PostgreSQL")
    return reviews


@get(
    "/reviews",
    summary="Bookings held for fraud review (status REVIEW), oldest first, with their reasons",
    description=(
        "A checkout whose risk score passes `ADMITONE_FRAUD_REVIEW_SCORE` is held once paid: "
        "the booking is `REVIEW`, the money captured and the seats booked for it, no ticket. "
        "`riskScore` is the sum of the `reasons`' points; `?show=` keeps one show's."
    ),
    responses={401: problem("OPERATOR_UNAUTHORIZED")},
)
async def list_reviews(
    reviews: ReviewService | None, show: str | None = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 200,
) -> list[ReviewItem]:
    return await _reviews(reviews).reviews(show, limit)


@post(
    "/bookings/{booking_id:str}/approve", status_code=200,
    summary="Approve a booking held for review: CONFIRMED, the fan gets the ticket",
    responses={401: problem("OPERATOR_UNAUTHORIZED"), 404: problem("BOOKING_NOT_FOUND"),
               409: problem("BOOKING_STATE: the booking is not held for review")},
)
async def approve_review(
    request: Request[Any, Any, Any], booking_id: str, reviews: ReviewService | None,
    settings: Settings,
) -> ReviewOut:
    return await _reviews(reviews).decide(booking_id, "approve", actor(request, settings))


@post(
    "/bookings/{booking_id:str}/reject", status_code=200,
    summary="Reject a booking held for review: CANCELLED, refunded in full, seats released",
    responses={401: problem("OPERATOR_UNAUTHORIZED"), 404: problem("BOOKING_NOT_FOUND"),
               409: problem("BOOKING_STATE: the booking is not held for review")},
)
async def reject_review(
    request: Request[Any, Any, Any], booking_id: str, reviews: ReviewService | None,
    settings: Settings,
) -> ReviewOut:
    return await _reviews(reviews).decide(booking_id, "reject", actor(request, settings))


ROUTES = [
    Router(
        path="/api/v1/admin",
        route_handlers=[list_reviews, approve_review, reject_review],
        guards=[operator_guard],
        tags=["operator: fraud review"],
        security=OPERATOR_SECURITY,
    ),
    Router(
        path="/api/v1/admin",
        route_handlers=[create_movie, create_theater, create_screen, create_show, get_show],
        guards=[operator_guard],
        tags=["operator: catalog"],
        security=OPERATOR_SECURITY,
    ),
    Router(
        path="/api/v1/admin",
        route_handlers=[put_room, patch_room, get_room, room_stats, revoke_visitor],
        guards=[operator_guard],
        tags=["operator: waiting rooms"],
        security=OPERATOR_SECURITY,
    ),
    Router(
        path="/api/v1/admin",
        route_handlers=[list_refunds, retry_refund],
        guards=[operator_guard],
        tags=["operator: refunds"],
        security=OPERATOR_SECURITY,
    ),
]
