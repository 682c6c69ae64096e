"""The seat page's and the checkout page's first render as plain data (no I/O).

The server renders the shell: the show, the page's texts, and a JSON config for the script.
The seats themselves come from the JSON API, called by ``static/js/seatmap.js`` and
``static/js/hold.js`` with the access token the queue page left in ``sessionStorage``: the
token never reaches the server as a cookie or in a URL, so the server cannot render seats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from admitone.gateway import formats
from admitone.gateway.i18n import Locale
from admitone.gateway.rendering import script_json
from admitone.gateway.shows import ShowInfo, checkout_path, queue_path, seats_path
from admitone.ids import canonical_id

# Strings the pages' scripts get (only these, not the whole catalog).
SCRIPT_STRING_PREFIXES = ("seats.",)
POLL_MS = 5000
# The lock is extended every two minutes while the checkout page is open; a shorter lock (as
# in tests) is extended at a third of its length so that the heartbeat always comes in time.
HEARTBEAT_MAX_MS = 120_000
HEARTBEAT_MIN_MS = 5_000


@dataclass(frozen=True)
class SeatPageShow:
    """A show as the seat pages need it: ``ShowInfo`` plus the screen and the seat limit."""

    info: ShowInfo
    screen: str | None
    max_seats: int
    has_queue: bool = True


@dataclass(frozen=True)
class SeatPageView:
    """Everything ``templates/seats/page.html`` and ``templates/checkout/page.html`` print."""

    show_title: str
    show_time_iso: str
    show_time_text: str
    show_place: str
    queue_url: str
    seats_url: str
    checkout_url: str
    max_seats_text: str
    has_queue: bool
    config_json: str


def heartbeat_ms(lock_seconds: int) -> int:
    """How often the checkout page extends its lock."""
    return max(HEARTBEAT_MIN_MS, min(HEARTBEAT_MAX_MS, lock_seconds * 1000 // 3))


def build_seat_view(loc: Locale, show: SeatPageShow, *, lock_seconds: int) -> SeatPageView:
    """The first render of either page, and the config its script reads."""
    info = show.info
    place = ", ".join(part for part in (info.theater, info.city) if part)
    if show.screen:
        place = loc.t("seats.place_screen", place=place, screen=show.screen) if place \
            else show.screen
    config = {
        "showId": info.id,
        "language": loc.language,
        "locale": loc.tag,
        "queueUrl": queue_path(info.id),
        "seatsUrl": seats_path(info.id),
        "checkoutUrl": checkout_path(info.id),
        "maxSeats": show.max_seats,
        "pollMs": POLL_MS,
        "heartbeatMs": heartbeat_ms(lock_seconds),
        "strings": loc.strings(*SCRIPT_STRING_PREFIXES),
    }
    return SeatPageView(
        show_title=info.title or loc.t("seats.eyebrow"),
        show_time_iso=info.show_time.isoformat() if info.show_time else "",
        show_time_text=loc.datetime(info.show_time, info.timezone) if info.show_time else "",
        show_place=place,
        queue_url=queue_path(info.id),
        seats_url=seats_path(info.id),
        checkout_url=checkout_path(info.id),
        max_seats_text=loc.plural("seats.max_seats", show.max_seats),
        has_queue=show.has_queue,
        config_json=script_json(config),
    )


# The form that picks the best seats without JavaScript ------------------------------------------

# The best row is about three fifths of the way back from the screen: far enough to take the
# whole screen in, close enough to fill the view.
BEST_ROW_FRACTION = 0.6


@dataclass(frozen=True)
class FreeSeat:
    """An available seat as the best-seat choice sees it."""

    id: str
    row_index: int
    number: int
    seat_type: str


def best_seats(seats: list[FreeSeat], count: int, rows: int, cols: int) -> list[str]:
    """Up to ``count`` available seats, best first: ``count`` side by side in one row (of one
    seat type) nearest the hall's sweet spot, else the ``count`` single seats nearest it.

    The sweet spot is the middle of the row three fifths back; a row away counts double a seat
    away. A pure function of the free seats, so the no-JavaScript form and its tests share it.
    """
    if count <= 0 or not seats:
        return []
    best_row = (max(rows, 1) - 1) * BEST_ROW_FRACTION
    middle = (max(cols, 1) + 1) / 2

    def distance(row_index: float, number: float) -> float:
        return abs(row_index - best_row) * 2.0 + abs(number - middle)

    by_row: dict[tuple[int, str], list[FreeSeat]] = {}
    for seat in seats:
        by_row.setdefault((seat.row_index, seat.seat_type), []).append(seat)
    best_block: tuple[float, list[str]] | None = None
    for (row_index, _type), row_seats in by_row.items():
        row_seats.sort(key=lambda seat: seat.number)
        for start in range(len(row_seats) - count + 1):
            run = row_seats[start:start + count]
            if run[-1].number - run[0].number != count - 1:
                continue  # a gap (a taken seat) inside the run
            score = distance(row_index, (run[0].number + run[-1].number) / 2)
            if best_block is None or score < best_block[0]:
                best_block = (score, [seat.id for seat in run])
    if best_block is not None:
        return best_block[1]
    nearest = sorted(seats, key=lambda s: (distance(s.row_index, s.number), s.row_index, s.number))
    return [seat.id for seat in nearest[:count]]


_SEAT_ID = re.compile(r"^[A-Z]{1,3}[0-9]{1,3}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_FORM_SEATS = 50


@dataclass(frozen=True)
class HeldForForm:
    """The hold the no-JavaScript checkout form pays for: the lock (the server's to judge) and,
    for display only, its seats, total and end, carried in the page's address and form."""

    lock_id: str
    seat_ids: tuple[str, ...]
    total: Decimal
    currency: str
    until: datetime


@dataclass(frozen=True)
class NoScriptView:
    """What the seat and checkout pages' ``<noscript>`` forms print."""

    counts: tuple[int, ...]
    count: int
    message: str = ""
    message_link: tuple[str, str] | None = None   # (href, text) of the way on, if any
    held: HeldForForm | None = None
    held_text: dict[str, str] | None = None
    key: str = ""
    email: str = ""
    method: str = "CARD"
    field_error: str = ""


def held_from(values: Mapping[str, str]) -> HeldForForm | None:
    """The hold named by ``lock``, ``seats``, ``total``, ``currency`` and ``until`` (query or
    form fields), or None when any is missing or malformed."""
    lock_id = canonical_id(values.get("lock", ""))
    seats = tuple(part for part in values.get("seats", "").split(",") if part)
    currency = values.get("currency", "")
    try:
        total = Decimal(values.get("total", ""))
        until = datetime.fromisoformat(values.get("until", ""))
    except (ArithmeticError, ValueError):
        return None
    if (lock_id is None or not seats or len(seats) > MAX_FORM_SEATS
            or not all(_SEAT_ID.match(seat) for seat in seats) or not _CURRENCY.match(currency)
            or not total.is_finite() or until.tzinfo is None):
        return None
    return HeldForForm(lock_id, seats, total, currency, until)


def held_query(held: HeldForForm) -> str:
    """The checkout page's address query that shows ``held`` to the form."""
    return urlencode({"lock": held.lock_id, "seats": ",".join(held.seat_ids),
                      "total": str(held.total), "currency": held.currency,
                      "until": held.until.isoformat()})


def held_texts(loc: Locale, held: HeldForForm, timezone: str | None) -> dict[str, str]:
    return {
        "seats": ", ".join(held.seat_ids),
        "total": formats.money(loc, held.total, held.currency),
        "until": loc.datetime(held.until, timezone),
        "pay": loc.t("seats.checkout.pay_amount",
                     total=formats.money(loc, held.total, held.currency)),
    }
