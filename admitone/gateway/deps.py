"""The services a route may ask for, by parameter name, as Litestar dependencies.

A handler names what it needs (``catalog: CatalogService``) and Litestar hands it over; no
handler reaches into the process's whole set of services. Each value is built once in the app's
lifespan (``admitone.runtime.open_services``) and read from ``app.state`` once per app, so asking
for a dependency costs a dictionary lookup, not a call per request.
"""

from __future__ import annotations

from collections.abc import Callable
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
    "checkout": "checkout",
    "payments": "payments",
    "bookings": "bookings",
    "admission": "admission",
    "rate_limiter": "rate_limiter",
    "revocations": "revocations",
    "sandbox": "sandbox",
    "operator_token": "operator_token",
    "live_stats": "live_stats",  # the operator console (gateway/operator)
    "backoffice": "backoffice",
}


def _provider(attribute: str) -> Callable[[State], Any]:
    def provide(state: State) -> Any:
        return getattr(state.services, attribute)

    provide.__name__ = f"provide_{attribute}"
    return provide


def dependencies() -> dict[str, Provide]:
    """Fresh providers for one app (``use_cache``: each is resolved once, then reused)."""
    return {
        name: Provide(_provider(attribute), sync_to_thread=False, use_cache=True)
        for name, attribute in _PROVIDED.items()
    }
