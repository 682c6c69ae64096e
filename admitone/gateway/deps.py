"""The services a route may ask for, by parameter name, as Litestar dependencies.

A handler names what it needs (``catalog: CatalogService``) and Litestar hands it over; no
handler reaches into the process's whole set of services. Each value is built once in the app's
lifespan (``admitone.runtime.open_services``) and read from the app's state on first use, then
kept (``use_cache``). A provider takes no parameters, so that Litestar has nothing to parse for
it: asking for a dependency costs one await of a cached value per request, on every hot path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

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
    "admission": "admission",
    "rate_limiter": "rate_limiter",
    "revocations": "revocations",
    "sandbox": "sandbox",
    "readiness": "ready",  # Services.ready: whether PostgreSQL and Redis answer
}


def _provider(state: State, attribute: str) -> Callable[[], Awaitable[Any]]:
    async def provide() -> Any:
        return getattr(state.services, attribute)

    provide.__name__ = f"provide_{attribute}"
    return provide


def dependencies(state: State) -> dict[str, Provide]:
    """Fresh providers for the app whose state is ``state`` (each resolved once, then reused)."""
    return {
        name: Provide(_provider(state, attribute), use_cache=True)
        for name, attribute in _PROVIDED.items()
    }
