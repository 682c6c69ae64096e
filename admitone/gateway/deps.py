"""The services a route may ask for, by parameter name, as Litestar dependencies.

A handler names what it needs (``catalog: CatalogService``) and Litestar hands it over; no
handler reaches into the process's whole set of services. Each value is built once in the app's
lifespan (``admitone.runtime.open_services``) and read from the app's state on first use, then
kept (``use_cache``). A provider takes no parameters, so that Litestar has nothing to parse for
it: asking for a dependency costs one await of a cached value per request, on every hot path.

Litestar resolves two or more dependencies of one route in an anyio task group, which costs
about 40 µs a request here (as much as the rest of a cached ``progress`` answer). So the hottest
routes (queue join/status/leave, seat map and locks) each ask for ONE bundle of the services
they use: :class:`QueueRouteServices` as ``queue_routes``, :class:`SeatRouteServices` as
``seat_routes``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from admitone.admission.ratelimit import RateLimiter
from admitone.admission.services import AdmissionServices
from admitone.booking_core.seats import SeatService
from admitone.settings import Settings


@dataclass(frozen=True, slots=True)
class QueueRouteServices:
    """What the fans' queue routes use: the waiting room, the join limiter, the settings."""

    admission: AdmissionServices
    rate_limiter: RateLimiter
    settings: Settings


@dataclass(frozen=True, slots=True)
class SeatRouteServices:
    """What the seat routes use: the waiting room (its tokens and revocations) and the seats."""

    admission: AdmissionServices
    seats: SeatService


# Parameter name -> attribute of ``runtime.Services``. The names are part of the gateway's
# vocabulary: every area uses the same one for the same service.
_PROVIDED = {
    "settings": "settings",
    "tokens": "tokens",
    "catalog": "catalog",
    "seats": "seats",
    "seat_events": "seat_events",
    "seat_hub": "seat_hub",
    "stream_tickets": "stream_tickets",
    "checkout": "checkout",
    "payments": "payments",
    "bookings": "bookings",
    "tickets": "tickets",  # tickets at the door (gateway/tickets)
    "admission": "admission",
    "rate_limiter": "rate_limiter",
    "revocations": "revocations",
    "sandbox": "sandbox",
    "readiness": "ready",  # Services.ready: whether PostgreSQL and Redis answer
    "provider_payments": "provider_payments",
    "monitoring": "monitoring",
    "operator_token": "operator_token",
    "live_stats": "live_stats",  # the operator console (gateway/operator)
    "backoffice": "backoffice",
    "reviews": "reviews",  # fraud review (operator API and console)
}


def _provider(state: State, attribute: str) -> Callable[[], Awaitable[Any]]:
    async def provide() -> Any:
        return getattr(state.services, attribute)

    provide.__name__ = f"provide_{attribute}"
    return provide


def queue_route_services(found: Any) -> QueueRouteServices:
    """The queue routes' bundle of ``found`` (the app's ``runtime.Services``)."""
    return QueueRouteServices(found.admission, found.rate_limiter, found.settings)


def _bundles(state: State) -> dict[str, Callable[[], Awaitable[Any]]]:
    async def queue_routes() -> QueueRouteServices:
        return queue_route_services(state.services)

    async def seat_routes() -> SeatRouteServices:
        found = state.services
        return SeatRouteServices(found.admission, found.seats)

    return {"queue_routes": queue_routes, "seat_routes": seat_routes}


def dependencies(state: State) -> dict[str, Provide]:
    """Fresh providers for the app whose state is ``state`` (each resolved once, then reused)."""
    providers = {name: _provider(state, attribute) for name, attribute in _PROVIDED.items()}
    providers |= _bundles(state)
    return {name: Provide(provide, use_cache=True) for name, provide in providers.items()}
