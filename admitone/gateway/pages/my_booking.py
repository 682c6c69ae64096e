""""My booking": ``GET /my-booking``, and its form posts for fans without JavaScript. The
server looks the booking up, shows it with the refund cancelling would give, and cancels once
the fan ticks that they have read it.

With JavaScript the page never posts (``static/js/my-booking.js`` calls the JSON API). Both
ways share the lookup's per-address rate limit, so a form is no way around it. The form carries
the reference and e-mail again for the cancel (no token in the page); the page is ``no-store``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from litestar import Request, Response, get, post
from redis.exceptions import RedisError

from admitone import errors
from admitone.admission.tokens import BookingTokenClaims
from admitone.booking_core.booking_models import (
    BookingView,
)
from admitone.gateway import i18n
from admitone.gateway.auth import services
from admitone.gateway.pages import formats
from admitone.gateway.pages.booking import CancellationPreview, page_config, preview_cancellation
from admitone.gateway.pages.rendering import render_page
from admitone.gateway.ratelimit import bucket_key
from admitone.gateway.routes.bookings import LOOKUP_BURST, LOOKUP_RATE_PER_SECOND

log = structlog.get_logger(__name__)

MAX_REFERENCE_CHARS = 32
MAX_EMAIL_CHARS = 320
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")


@dataclass(frozen=True)
class LookupForm:
    reference: str
    email: str
    confirmed: bool


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


def field_errors(loc: i18n.Locale, form: LookupForm) -> dict[str, str]:
    found: dict[str, str] = {}
    if not form.reference:
        found["reference"] = loc.t("booking.error_reference")
    if not form.email:
        found["email"] = loc.t("booking.error_email_missing")
    elif not _EMAIL.match(form.email):
        found["email"] = loc.t("booking.error_email")
    return found


def summary_view(loc: i18n.Locale, booking: BookingView,
                 preview: CancellationPreview) -> dict[str, Any]:
    """Texts of the found booking, the same strings the script fills in."""
    show, money = booking.show, formats.money
    view: dict[str, Any] = {
        "id": booking.id, "reference": booking.reference, "title": show.title,
        "status": booking.status.lower(),
        "status_text": loc.t(f"booking.status.{booking.status.lower()}"),
        "time_iso": show.show_time.isoformat(),
        "time_text": loc.datetime(show.show_time, show.timezone),
        "place": ", ".join(part for part in (show.theater, show.screen, show.city) if part),
        "seats": ", ".join(seat.id for seat in booking.seats),
        "amount": money(loc, booking.amount, booking.currency),
        "refund": money(loc, booking.refund.amount, booking.currency) if booking.refund else "",
        "cancel": None,
    }
    if booking.status == "CONFIRMED":
        refund = money(loc, preview.refund_amount, preview.currency)
        until = loc.datetime(preview.cancellable_until, show.timezone)
        if not preview.allowed:
            view["cancel"] = {"allowed": False, "refund_text": loc.t("booking.cancel_closed"),
                              "policy_text": loc.t("booking.cancel_closed_policy", until=until)}
        else:
            policy = (loc.t("booking.policy_full", until=loc.datetime(
                preview.full_refund_until, show.timezone), half_until=until)
                if preview.percent == 100  # noqa: PLR2004 - a full refund
                else loc.t("booking.policy_half", until=until))
            view["cancel"] = {
                "allowed": True, "policy_text": policy,
                "refund_text": loc.t("booking.refund_preview", refund=refund,
                                     percent=preview.percent,
                                     amount=money(loc, preview.amount, preview.currency)),
                "confirm_label": loc.t("booking.cancel_yes", refund=refund),
            }
    return view


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


async def _within_limit(request: Request[Any, Any, Any]) -> bool:
    client = request.client.host if request.client else "unknown"
    try:
        allowed, _retry = await services(request).rate_limiter.take(
            bucket_key("lookup", client), LOOKUP_RATE_PER_SECOND, LOOKUP_BURST)
    except RedisError as exc:
        log.warning("rate_limiter_unavailable", limiter="lookup_form", error=str(exc))
        return True
    return allowed


async def _look_up(request: Request[Any, Any, Any], loc: i18n.Locale, form: LookupForm
                   ) -> Found | Response[Any]:
    """The booking the form names, or the page that says why not."""
    problems = field_errors(loc, form)
    if problems:
        return render(request, loc, status_code=422, form=form, problems=problems,
                      message=loc.t("booking.errors_title"))
    if not await _within_limit(request):
        return render(request, loc, status_code=429, form=form,
                      message=loc.t("booking.error_rate_limited", seconds=60))
    state = services(request)
    try:
        answer = await state.bookings.lookup(form.reference, form.email)
        claims = state.tokens.verify_booking_token(answer.booking_token)
        booking = await state.bookings.get(answer.booking_id, claims)
    except errors.NotFoundError:
        return render(request, loc, status_code=404, form=form,
                      message=loc.t("booking.error_not_found"))
    preview = preview_cancellation(booking, datetime.now(UTC).replace(microsecond=0))
    return Found(booking, claims, summary_view(loc, booking, preview))


@get("/my-booking", name="my_booking", include_in_schema=False, media_type="text/html")
async def my_booking_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Find a booking by reference and e-mail; see it, and cancel it."""
    return render(request, i18n.locale_for(request))


@post("/my-booking", include_in_schema=False, status_code=200)
async def lookup_form(request: Request[Any, Any, Any]) -> Response[Any]:
    """The lookup form without JavaScript: the booking, or what was wrong with the form."""
    loc = i18n.locale_for(request)
    form = await read_form(request)
    found = await _look_up(request, loc, form)
    if not isinstance(found, Found):
        return found
    return render(request, loc, form=form, found=found)


@post("/my-booking/cancel", include_in_schema=False, status_code=200)
async def cancel_form(request: Request[Any, Any, Any]) -> Response[Any]:
    """Cancel without JavaScript, once the fan has ticked that they saw the refund."""
    loc = i18n.locale_for(request)
    form = await read_form(request)
    found = await _look_up(request, loc, form)
    if not isinstance(found, Found):
        return found
    if not form.confirmed:
        return render(request, loc, status_code=422, form=form, found=found,
                      message=loc.t("booking.error_confirm"))
    bookings = services(request).bookings
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


ROUTES = [my_booking_page, lookup_form, cancel_form]
