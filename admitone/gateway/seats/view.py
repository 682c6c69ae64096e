"""The seat page's and the checkout page's first render as plain data (no I/O).

The server renders the shell: the show, the page's texts, and a JSON config for the script.
The seats themselves come from the JSON API, called by ``static/js/seatmap.js`` and
``static/js/hold.js`` with the access token the queue page left in ``sessionStorage``: the
token never reaches the server as a cookie or in a URL, so the server cannot render seats.
"""

from __future__ import annotations

from dataclasses import dataclass

from admitone.gateway.i18n import Locale
from admitone.gateway.rendering import script_json
from admitone.gateway.shows import ShowInfo, checkout_path, queue_path, seats_path

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
