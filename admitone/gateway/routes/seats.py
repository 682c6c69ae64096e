"""Booking-core routes for seats and locks, guarded by the show's access token."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example

from admitone.booking_core import models as m
from admitone.gateway.auth import require_access, services

_SECURITY: list[dict[str, list[str]]] = [{"accessToken": []}]


@get(
    "/api/v1/shows/{show_id:str}/seats",
    tags=["booking"],
    summary="The show's seat map",
    security=_SECURITY,
    responses={200: ResponseSpec(data_container=m.SeatMap, description="Seats and their states")},
)
async def seat_map(request: Request[Any, Any, Any], show_id: str) -> Response[bytes]:
    claims = await require_access(request, show_id)
    body = await services(request).seats.seat_map_json(show_id, viewer=claims.sub)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


@post(
    "/api/v1/bookings/lock",
    tags=["booking"],
    status_code=200,
    security=_SECURITY,
    summary="Lock seats, all or nothing",
    responses={
        409: ResponseSpec(
            data_container=dict,
            description="SEAT_UNAVAILABLE with unavailableSeats and alternativeSeats",
            examples=[
                Example(
                    value={
                        "error": "SEAT_UNAVAILABLE",
                        "unavailableSeats": ["A1"],
                        "alternativeSeats": ["A3"],
                    }
                )
            ],
        )
    },
)
async def lock_seats(request: Request[Any, Any, Any], data: m.LockIn) -> m.LockOut:
    claims = await require_access(request, data.show_id)
    return await services(request).seats.lock_seats(claims.sub, data)


@put(
    "/api/v1/bookings/lock/{lock_id:str}/extend",
    tags=["booking"],
    security=_SECURITY,
    summary="Extend a lock (410 once it expired)",
)
async def extend_lock(request: Request[Any, Any, Any], lock_id: str) -> m.ExtendOut:
    claims = await require_access(request, None)
    return await services(request).seats.extend_lock(claims.sub, lock_id)


@delete(
    "/api/v1/bookings/lock/{lock_id:str}",
    tags=["booking"],
    status_code=200,
    security=_SECURITY,
    summary="Release a lock",
)
async def release_lock(request: Request[Any, Any, Any], lock_id: str) -> m.ReleaseOut:
    claims = await require_access(request, None)
    return await services(request).seats.release_lock(claims.sub, lock_id)


@post(
    "/api/v1/bookings",
    tags=["booking"],
    status_code=201,
    security=_SECURITY,
    summary="Check out a lock: booking PENDING, payment INITIATED (needs Idempotency-Key)",
    responses={201: ResponseSpec(data_container=m.CheckoutOut, description="Booking created")},
)
async def checkout(request: Request[Any, Any, Any], data: m.CheckoutIn) -> Response[bytes]:
    claims = await require_access(request, None)
    stored = await services(request).checkout.checkout(
        claims.sub, request.headers.get("idempotency-key"), data
    )
    return Response(stored.body, status_code=stored.status_code, media_type="application/json")


ROUTES = [seat_map, lock_seats, extend_lock, release_lock, checkout]
