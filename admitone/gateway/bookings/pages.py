"""After payment: the confirmation and ticket page, the tickets saved on this device, and "my
booking" (look up, see the refund cancelling would give, cancel).

- ``GET /bookings/{bookingId}``: where the payment page returns the fan. The server renders a
  shell; ``static/js/ticket.js`` reads the booking with the token the browser holds
  (``sessionStorage``: the show's access token, or a booking token from lookup), polls briefly
  while the payment settles, and shows the reference, seats, show, amount and QR code. It saves
  the ticket in IndexedDB and asks the service worker to keep the page, so the ticket opens
  with no network at the venue.
- ``GET /tickets``: the tickets saved on this device (the web app's start page).
- ``GET /my-booking``: look up by reference and e-mail. With JavaScript the page never posts
  (``static/js/my-booking.js`` calls the JSON API); without it the forms below post here. Both
  ways share the lookup's per-address rate limit, so a form is no way around it. The form
  carries the reference and e-mail again for the cancel (no token in the page); the page is
  ``no-store``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post

from admitone import errors
from admitone.admission.ratelimit import LOOKUP_BURST, LOOKUP_RATE_PER_SECOND, RateLimiter
from admitone.admission.tokens import BookingTokenClaims, TokenService
from admitone.booking_core.booking_models import BookingView
from admitone.booking_core.bookings import BookingService
from admitone.gateway import formats, i18n
from admitone.gateway.bookings.view import (
    MAX_EMAIL_CHARS,
    MAX_REFERENCE_CHARS,
    LookupForm,
    field_errors,
    page_config,
    preview_cancellation,
    summary_view,
)
from admitone.gateway.client import client_ip
from admitone.gateway.failures import not_found_page
from admitone.gateway.rendering import render_page
from admitone.ids import canonical_id
from admitone.settings import Settings

# While a booking is PENDING the page polls this often, this long, then says it is still
# confirming (the webhook usually lands within a second of the redirect).
POLL_MS = 1500
POLL_FOR_MS = 30_000
SLOW_POLL_MS = 10_000
# With a mail server set, a confirmed page asks again this often, this many times, whether the
# ticket e-mail has gone out (the outbox worker sends it within a few seconds).
EMAIL_POLL_MS = 4000
EMAIL_POLL_TIMES = 8


@get("/bookings/{booking_id:str}", name="booking", include_in_schema=False,
     media_type="text/html")
async def booking_page(
    request: Request[Any, Any, Any], booking_id: str, settings: Settings
) -> Response[Any]:
    """The confirmation page: the script fills it in with the fan's own token (or the booking
    token in the e-mailed link's fragment). ``emailConfigured`` tells it whether a mail server
    is set, so it says "e-mailed" only when the booking's ``ticketEmailed`` says so."""
    loc = i18n.locale_for(request)
    canonical = canonical_id(booking_id)
    if canonical is None:
        return not_found_page(request, loc)
    config = page_config(loc, bookingId=canonical, pollMs=POLL_MS, pollForMs=POLL_FOR_MS,
                         slowPollMs=SLOW_POLL_MS, emailConfigured=bool(settings.smtp_url),
                         emailPollMs=EMAIL_POLL_MS, emailPollTimes=EMAIL_POLL_TIMES)
    return render_page(request, loc, "booking/confirmation.html",
                       page_title=loc.t("booking.page_title"), booking_id=canonical,
                       config_json=config)


@get("/tickets", name="tickets", include_in_schema=False, media_type="text/html")
async def tickets_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Tickets saved on this device (read by the script from IndexedDB; works offline)."""
    loc = i18n.locale_for(request)
    return render_page(request, loc, "booking/tickets.html", page_title=loc.t("ticket.list_title"),
                       config_json=page_config(loc))


@dataclass(frozen=True)
class Found:
    """The booking, the booking token's claims that opened it, and its texts for the page."""

    booking: BookingView
    claims: BookingTokenClaims
    view: dict[str, Any]


async def read_form(request: Request[Any, Any, Any]) -> LookupForm:
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a malformed body is an empty form
        return LookupForm("", "", confirmed=False)

    def field(name: str, limit: int) -> str:
        value = form.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    return LookupForm(field("reference", MAX_REFERENCE_CHARS).upper(),
                      field("email", MAX_EMAIL_CHARS), field("confirm", 8) == "yes")


def render(request: Request[Any, Any, Any], loc: i18n.Locale, *, status_code: int = 200,
           form: LookupForm | None = None, found: Found | None = None,
           problems: dict[str, str] | None = None, message: str = "", done: str = "",
           ) -> Response[Any]:
    return render_page(
        request, loc, "booking/my_booking.html", page_title=loc.t("booking.my_title"),
        status_code=status_code, config_json=page_config(loc), form=form,
        found=found.view if found else None, problems=problems or {}, message=message,
        done=done,
    )


@dataclass(frozen=True)
class _Lookup:
    """What the lookup forms need: the bookings, the tokens, the limiter and the settings."""

    bookings: BookingService
    tokens: TokenService
    rate_limiter: RateLimiter
    settings: Settings


async def _look_up(request: Request[Any, Any, Any], loc: i18n.Locale, form: LookupForm,
                   with_: _Lookup) -> Found | Response[Any]:
    """The booking the form names, or the page that says why not."""
    problems = field_errors(loc, form)
    if problems:
        return render(request, loc, status_code=422, form=form, problems=problems,
                      message=loc.t("booking.errors_title"))
    allowed, _retry = await with_.rate_limiter.allows(
        "lookup", client_ip(request), LOOKUP_RATE_PER_SECOND,
        LOOKUP_BURST)
    if not allowed:
        return render(request, loc, status_code=429, form=form,
                      message=loc.t("booking.error_rate_limited", seconds=60))
    try:
        answer = await with_.bookings.lookup(form.reference, form.email)
        claims = with_.tokens.verify_booking_token(answer.booking_token)
        booking = await with_.bookings.get(answer.booking_id, claims)
    except errors.NotFoundError:
        return render(request, loc, status_code=404, form=form,
                      message=loc.t("booking.error_not_found"))
    preview = preview_cancellation(booking, datetime.now(UTC).replace(microsecond=0))
    return Found(booking, claims, summary_view(loc, booking, preview))


@get("/my-booking", name="my_booking", include_in_schema=False, media_type="text/html")
async def my_booking_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Find a booking by reference and e-mail; see it, and cancel it. ``?reference=`` fills the
    form in (the ticket page links here so); with ``?booking=`` the script opens that booking at
    once when this browser holds a token for it."""
    reference = request.query_params.get("reference")
    form = None
    if isinstance(reference, str) and reference.strip():
        form = LookupForm(reference.strip()[:MAX_REFERENCE_CHARS].upper(), "", confirmed=False)
    return render(request, i18n.locale_for(request), form=form)


@post("/my-booking", include_in_schema=False, status_code=200)
async def lookup_form(
    request: Request[Any, Any, Any], bookings: BookingService, tokens: TokenService,
    rate_limiter: RateLimiter, settings: Settings,
) -> Response[Any]:
    """The lookup form without JavaScript: the booking, or what was wrong with the form."""
    loc = i18n.locale_for(request)
    form = await read_form(request)
    found = await _look_up(request, loc, form, _Lookup(bookings, tokens, rate_limiter, settings))
    if not isinstance(found, Found):
        return found
    return render(request, loc, form=form, found=found)


@post("/my-booking/cancel", include_in_schema=False, status_code=200)
async def cancel_form(
    request: Request[Any, Any, Any], bookings: BookingService, tokens: TokenService,
    rate_limiter: RateLimiter, settings: Settings,
) -> Response[Any]:
    """Cancel without JavaScript, once the fan has ticked that they saw the refund."""
    loc = i18n.locale_for(request)
    form = await read_form(request)
    found = await _look_up(request, loc, form, _Lookup(bookings, tokens, rate_limiter, settings))
    if not isinstance(found, Found):
        return found
    if not form.confirmed:
        return render(request, loc, status_code=422, form=form, found=found,
                      message=loc.t("booking.error_confirm"))
    try:
        out = await bookings.cancel(found.booking.id, found.claims)
    except errors.ConflictError:
        return render(request, loc, status_code=409, form=form, found=found,
                      message=loc.t("booking.cancel_closed"))
    booking = await bookings.get(found.booking.id, found.claims)
    view = summary_view(loc, booking, preview_cancellation(booking, datetime.now(UTC)))
    done = loc.t("booking.cancel_done", reference=booking.reference,
                 refund=formats.money(loc, out.refund_amount, out.currency))
    return render(request, loc, form=form, found=Found(booking, found.claims, view), done=done)


ROUTES = [booking_page, tickets_page, my_booking_page, lookup_form, cancel_form]
