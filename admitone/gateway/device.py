"""The device cookie: a long-lived random id the fan's pages set once per browser.

A visitor id is free (every join mints one), so the seat limit is also counted per device
(migration 0026): the lock routes read this cookie and the lock function counts the device's
live locks and the bookings made from them against the show's ``max_seats_per_visitor``.
Without the cookie (API clients, scripts, a browser that clears it) there is no device limit;
the network cap and the checkout's e-mail and instrument limits still apply (README "Seat
limits and fraud review"). A malformed value is ignored, never trusted or echoed.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from admitone.gateway.rendering import is_secure

DEVICE_COOKIE = "admitone_device"
DEVICE_COOKIE_SECONDS = 365 * 24 * 3600
_DEVICE_BYTES = 18  # token_urlsafe(18): 24 characters of [A-Za-z0-9_-]
_DEVICE_RE = re.compile(r"[A-Za-z0-9_-]{24}")


def device_id(request: Request[Any, Any, Any]) -> str:
    """The request's device id, or "" when it has no well-formed device cookie."""
    value = request.cookies.get(DEVICE_COOKIE) or ""
    return value if _DEVICE_RE.fullmatch(value) else ""


def device_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    """The cookie to set when the request has none (or a malformed one): else nothing."""
    if device_id(request):
        return []
    return [Cookie(key=DEVICE_COOKIE, value=secrets.token_urlsafe(_DEVICE_BYTES), path="/",
                   max_age=DEVICE_COOKIE_SECONDS, httponly=True, samesite="lax",
                   secure=is_secure(request))]
