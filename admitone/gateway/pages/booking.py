"""After payment: the confirmation and ticket page, the tickets saved on this device, "my
booking" (look up, cancel), the cancellation preview they show, and the service worker.

- ``GET /bookings/{bookingId}``: where the payment page returns the fan. The server renders a
  shell; ``static/js/ticket.js`` reads the booking with the token the browser holds
  (``sessionStorage``: the show's access token, or a booking token from lookup), polls briefly
  while the payment settles, and shows the reference, seats, show, amount and QR code. It saves
  the ticket in IndexedDB and asks the service worker to keep the page, so the ticket opens
  with no network at the venue.
- ``GET /tickets``: the tickets saved on this device (the web app's start page).
- ``GET /my-booking`` (``pages/my_booking.py``): look up by reference and e-mail, see the
  refund cancelling would give, then cancel.
- ``GET /api/v1/bookings/{bookingId}/cancellation``: that refund, by the policy, before the
  fan decides (the same tokens as the other booking routes).
- ``GET /sw.js``: the service worker, served from the root so its scope covers every page.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from admitone import errors
from admitone.booking_core.booking_models import (
    BookingView,
)
from admitone.booking_core.models import Output
from admitone.booking_core.policy import FULL_REFUND_BEFORE, HALF_REFUND_BEFORE, decide_refund
from admitone.gateway import i18n
from admitone.gateway.auth import booking_caller, services
from admitone.gateway.pages.assets import STATIC_DIR
from admitone.gateway.pages.failures import not_found_page
from admitone.gateway.pages.queue_view import script_json
from admitone.gateway.pages.rendering import render_page

_SECURITY: list[dict[str, list[str]]] = [{"accessToken": []}]
SCRIPT_STRING_PREFIXES = ("ticket.", "booking.", "help.payment_failed.", "help.payment_pending.")
# While a booking is PENDING the page polls this often, this long, then says it is still
# confirming (the webhook usually lands within a second of the redirect).
POLL_MS = 1500
POLL_FOR_MS = 30_000
SLOW_POLL_MS = 10_000
CancellationReason = Literal["ALLOWED", "WINDOW_CLOSED", "NOT_CONFIRMED", "ALREADY_CANCELLED"]


class CancellationPreview(Output, frozen=True):
    """What cancelling the booking now would give back, by the cancellation policy."""

    booking_id: str
    allowed: bool
    reason: CancellationReason
    refund_amount: Decimal
    percent: int
    currency: str
    amount: Decimal
    full_refund_until: datetime
    cancellable_until: datetime
    checked_at: datetime


def _booking_uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def page_config(loc: i18n.Locale, **extra: Any) -> str:
    return script_json({
        "locale": loc.tag, "language": loc.language,
        "strings": loc.strings(*SCRIPT_STRING_PREFIXES), "serviceWorker": "/sw.js", **extra,
    })


@get("/bookings/{booking_id:str}", name="booking", include_in_schema=False,
     media_type="text/html")
async def booking_page(request: Request[Any, Any, Any], booking_id: str) -> Response[Any]:
    """The confirmation page: the script fills it in with the fan's own token."""
    loc = i18n.locale_for(request)
    canonical = _booking_uuid(booking_id)
    if canonical is None:
        return not_found_page(request, loc)
    config = page_config(loc, bookingId=canonical, pollMs=POLL_MS, pollForMs=POLL_FOR_MS,
                          slowPollMs=SLOW_POLL_MS)
    return render_page(request, loc, "booking/confirmation.html",
                       page_title=loc.t("booking.page_title"), booking_id=canonical,
                       config_json=config)


@get("/tickets", name="tickets", include_in_schema=False, media_type="text/html")
async def tickets_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Tickets saved on this device (read by the script from IndexedDB; works offline)."""
    loc = i18n.locale_for(request)
    return render_page(request, loc, "booking/tickets.html", page_title=loc.t("ticket.list_title"),
                       config_json=page_config(loc))


def preview_cancellation(booking: BookingView, now: datetime) -> CancellationPreview:
    """The policy's answer for cancelling ``booking`` at ``now`` (a pure function; the DELETE
    decides with the same :func:`decide_refund`)."""
    show_time = booking.show.show_time
    common: dict[str, Any] = {
        "booking_id": booking.id, "currency": booking.currency, "amount": booking.amount,
        "full_refund_until": show_time - FULL_REFUND_BEFORE,
        "cancellable_until": show_time - HALF_REFUND_BEFORE, "checked_at": now,
    }
    if booking.status != "CONFIRMED":
        reason: CancellationReason = (
            "ALREADY_CANCELLED" if booking.status == "CANCELLED" else "NOT_CONFIRMED")
        return CancellationPreview(allowed=False, reason=reason, refund_amount=Decimal("0.00"),
                                   percent=0, **common)
    try:
        decision = decide_refund(show_time, now, booking.amount)
    except errors.CancellationClosedError:
        return CancellationPreview(allowed=False, reason="WINDOW_CLOSED",
                                   refund_amount=Decimal("0.00"), percent=0, **common)
    return CancellationPreview(allowed=True, reason="ALLOWED", refund_amount=decision.amount,
                               percent=int(decision.fraction * 100), **common)


@get("/api/v1/bookings/{booking_id:str}/cancellation", tags=["booking"], security=_SECURITY,
     summary="What cancelling now would refund, by the cancellation policy",
     description="`allowed` false with `reason` WINDOW_CLOSED under 2 h before the show, "
                 "NOT_CONFIRMED or ALREADY_CANCELLED by the booking's state. The DELETE decides "
                 "by the database clock at that moment, so a preview taken just before a "
                 "boundary may differ.",
     responses={404: ResponseSpec(data_container=dict, description="BOOKING_NOT_FOUND")})
async def cancellation_preview(request: Request[Any, Any, Any],
                               booking_id: str) -> CancellationPreview:
    caller = await booking_caller(request)
    booking = await services(request).bookings.get(booking_id, caller)
    return preview_cancellation(booking, datetime.now(UTC).replace(microsecond=0))


_SW_HEADERS = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/",
               "X-Content-Type-Options": "nosniff"}


@get("/sw.js", include_in_schema=False, media_type="text/javascript")
async def service_worker() -> Response[bytes]:
    """The service worker script (``static/sw.js``), from the root: its scope is every page."""
    return Response((STATIC_DIR / "sw.js").read_bytes(), media_type="text/javascript",
                    headers=_SW_HEADERS)


ROUTES = [booking_page, tickets_page, cancellation_preview, service_worker]

__all__ = ["ROUTES", "CancellationPreview", "page_config", "preview_cancellation"]
