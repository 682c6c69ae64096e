"""The queue page's first render as plain data: no I/O, so each state is easy to test.

The server renders the page in one of the states below; ``static/js/queue.js`` then takes over
and switches between the same states. Without JavaScript the server's render is all there is
(a form to join, and a meta refresh that re-renders the position).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from admitone.admission.inventory import Chance
from admitone.gateway.i18n import Locale
from admitone.gateway.rendering import script_json
from admitone.gateway.shows import ShowInfo, draw_path, queue_path, seats_path

PageState = Literal[
    "joining", "waiting", "prequeue", "paused", "sold_out", "unavailable", "busy", "not_open",
    "closed", "expired", "left", "error", "admitted",
]

NOTICE_KIND: dict[str, str] = {
    "prequeue": "info", "paused": "info", "sold_out": "warning", "unavailable": "warning",
    "busy": "warning",
    "not_open": "info", "closed": "info", "expired": "warning", "left": "info",
    "error": "error", "admitted": "success",
}
# Seconds between re-renders of a page without JavaScript, by state (absent: no refresh).
# Every refresh calls `status`, which keeps the place alive (the abandonment grace is 60 s).
REFRESH_SECONDS: dict[str, int] = {
    "waiting": 10, "prequeue": 10, "paused": 10, "sold_out": 15, "unavailable": 10, "busy": 10,
    "not_open": 30,
}
NEAR_FRONT_REFRESH_SECONDS = 3
# Strings the page's script needs (it gets only these, not the whole catalog).
SCRIPT_STRING_PREFIXES = ("queue.", "eta.")


@dataclass(frozen=True)
class PlaceNumbers:
    """A waiting fan's numbers, from a ``status``/``join`` answer and the room's progress."""

    position: int | None = None
    total_in_queue: int | None = None
    ticket_number: int | None = None
    estimated_wait_seconds: int | None = None
    observed_per_minute: float | None = None
    initial_ahead: int | None = None
    chance: Chance | None = None  # how likely tickets are at this place (once the room knows)
    entry_id: str | None = None  # the fan's entry in a random pre-queue's draw
    seats_left: int | None = None  # for an admitted fan told that few are left


@dataclass(frozen=True)
class QueueView:
    """Everything ``templates/queue/page.html`` prints."""

    state: str
    heading: str
    notice_text: str
    notice_kind: str
    show_title: str
    show_time_iso: str
    show_time_text: str
    show_place: str
    position_text: str
    ahead_text: str
    percent: int
    progress_text: str
    eta_text: str
    total_text: str
    rate_text: str
    ticket_text: str
    join_action: str
    leave_action: str
    seats_url: str
    refresh_seconds: int | None
    config_json: str
    has_place: bool
    has_position: bool
    chance_level: str  # LIKELY / UNCERTAIN / UNLIKELY, or "" while unknown
    chance_text: str
    entry_id: str
    draw_url: str
    other_dates_url: str


def progress_percent(ahead: int, initial_ahead: int | None) -> int:
    """How far a fan has come since joining: 0 at the start, 100 at the front."""
    start = max(initial_ahead or 0, ahead)
    if start == 0:
        return 100
    return max(0, min(100, round(100 * (start - ahead) / start)))


def wait_seconds(
    ahead: int, observed_per_minute: float | None, fallback: int | None
) -> float | None:
    """The wait from the admission rate actually observed; the server's estimate without one."""
    if observed_per_minute and observed_per_minute > 0:
        return ahead * 60 / observed_per_minute
    return fallback


def chance_text(loc: Locale, chance: Chance | None) -> str:
    """How likely tickets are at the fan's place, in plain words with the numbers behind it."""
    if chance is None:
        return ""
    return loc.t(f"queue.chance.{chance.level}", seats=loc.number(chance.seats_left),
                 people=loc.number(chance.people_ahead))


def notice_for(
    loc: Locale, state: str, *, opens_at_text: str, starts_at_text: str, has_place: bool = True
) -> str:
    if state == "prequeue":
        return (loc.t("queue.prequeue_text", time=starts_at_text) if starts_at_text
                else loc.t("queue.prequeue_text_soon"))
    if state == "not_open":
        return (loc.t("queue.not_open_text", time=opens_at_text) if opens_at_text
                else loc.t("queue.not_open_text_soon"))
    if state in {"admitted", "sold_out"}:
        return loc.t(f"queue.{state}_text")
    if state == "unavailable" and not has_place:
        return loc.t("queue.unavailable_text_joining")
    if state in NOTICE_KIND:
        return loc.t(f"queue.{state}_text")
    return ""


def build_view(
    loc: Locale, show: ShowInfo, state: PageState, *, numbers: PlaceNumbers | None = None,
    opens_at: datetime | None = None, starts_at: datetime | None = None,
    notice_override: str | None = None,
) -> QueueView:
    """The page's first render for ``state``."""
    has_place = numbers is not None
    numbers = numbers or PlaceNumbers()
    opens_at_text = loc.datetime(opens_at, show.timezone) if opens_at else ""
    starts_at_text = loc.datetime(starts_at, show.timezone) if starts_at else ""
    position = numbers.position
    ahead = max(0, position - 1) if position is not None else None
    percent = progress_percent(ahead, numbers.initial_ahead) if ahead is not None else 0
    refresh = REFRESH_SECONDS.get(state)
    if state == "waiting" and position is not None and position <= 2:  # noqa: PLR2004 - near
        refresh = NEAR_FRONT_REFRESH_SECONDS
    place = ", ".join(part for part in (show.theater, show.city) if part)
    config = {
        "showId": show.id,
        "language": loc.language,
        "locale": loc.tag,
        "seatsUrl": seats_path(show.id),
        "drawUrl": draw_path(show.id),
        "opensAtText": opens_at_text,
        "startsAtText": starts_at_text,
        "strings": loc.strings(*SCRIPT_STRING_PREFIXES),
    }
    return QueueView(
        state=state,
        heading=loc.t(f"queue.heading.{state}"),
        notice_text=notice_override or notice_for(
            loc, state, opens_at_text=opens_at_text, starts_at_text=starts_at_text,
            has_place=has_place),
        notice_kind=NOTICE_KIND.get(state, "info"),
        show_title=show.title or loc.t("queue.eyebrow"),
        show_time_iso=show.show_time.isoformat() if show.show_time else "",
        show_time_text=loc.datetime(show.show_time, show.timezone) if show.show_time else "",
        show_place=loc.t("queue.show_place", theater=show.theater, city=show.city)
        if show.theater and show.city else place,
        position_text=loc.number(position) if position is not None else "–",
        ahead_text=(loc.t("queue.nobody_ahead") if ahead == 0
                    else loc.plural("queue.people_ahead", ahead) if ahead is not None else ""),
        percent=percent,
        progress_text=loc.t("queue.progress_text", percent=loc.number(percent)),
        eta_text=loc.duration(wait_seconds(ahead, numbers.observed_per_minute,
                                           numbers.estimated_wait_seconds))
        if ahead is not None else loc.t("eta.unknown"),
        total_text=loc.number(numbers.total_in_queue)
        if numbers.total_in_queue is not None else "–",
        rate_text=loc.number(round(numbers.observed_per_minute))
        if numbers.observed_per_minute is not None else "–",
        ticket_text=f"#{loc.number(numbers.ticket_number)}" if numbers.ticket_number else "–",
        join_action=queue_path(show.id),
        leave_action=f"{queue_path(show.id)}/leave",
        seats_url=seats_path(show.id),
        refresh_seconds=refresh,
        config_json=script_json(config),
        has_place=has_place,
        has_position=position is not None,
        chance_level=numbers.chance.level if numbers.chance else "",
        chance_text=chance_text(loc, numbers.chance),
        entry_id=numbers.entry_id or "",
        draw_url=draw_path(show.id),
        other_dates_url=f"/movies/{show.movie_id}" if show.movie_id else "/",
    )
