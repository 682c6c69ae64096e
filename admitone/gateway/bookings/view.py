"""The booking pages as plain data (no I/O): what cancelling would refund, the lookup form,
and the found booking's texts, the same strings the pages' scripts fill in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from admitone import errors
from admitone.booking_core.booking_models import BookingView
from admitone.booking_core.models import Output
from admitone.booking_core.policy import FULL_REFUND_BEFORE, HALF_REFUND_BEFORE, decide_refund
from admitone.emails import EMAIL_MAX_CHARS, EMAIL_PATTERN
from admitone.gateway import formats, i18n
from admitone.gateway.rendering import script_json

SCRIPT_STRING_PREFIXES = ("ticket.", "booking.", "help.payment_failed.", "help.payment_pending.")
MAX_REFERENCE_CHARS = 32
MAX_EMAIL_CHARS = EMAIL_MAX_CHARS
_EMAIL = re.compile(EMAIL_PATTERN)
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


def page_config(loc: i18n.Locale, **extra: Any) -> str:
    """The JSON config the booking pages' scripts read."""
    return script_json({
        "locale": loc.tag, "language": loc.language,
        "strings": loc.strings(*SCRIPT_STRING_PREFIXES), "serviceWorker": "/sw.js", **extra,
    })


@dataclass(frozen=True)
class LookupForm:
    reference: str
    email: str
    confirmed: bool


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
