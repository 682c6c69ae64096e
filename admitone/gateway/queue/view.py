"""The queue page's first render as plain data: no I/O, so each state is easy to test.

The server renders the page in one of the states below; ``static/js/queue.js`` then takes over
and switches between the same states. Without JavaScript the server's render is all there is
(a form to join, and a meta refresh that re-renders the position).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from admitone.admission.inventory import Chance
from admitone.gateway import formats
from admitone.gateway.i18n import Locale
from admitone.gateway.rendering import script_json
from admitone.gateway.shows import ShowInfo, draw_path, queue_path, seats_path

PageState = Literal[
    "joining", "waiting", "prequeue", "paused", "sold_out", "unavailable", "busy", "not_open",
    "closed", "expired", "left", "error", "admitted", "confirm_leave",
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
# The question before leaving goes back to the page in time to keep the place alive (within
# half the room's abandonment grace, but no sooner than a fan can read and answer it).
CONFIRM_REFRESH_SECONDS = (15, 45)
NEAR_FRONT_REFRESH_SECONDS = 3
# Strings the page's script needs (it gets only these, not the whole catalog).
SCRIPT_STRING_PREFIXES = ("queue.", "eta.")


@dataclass(frozen=True)
class RoomFacts:
    """What the page tells a fan about the room: its phase now, its times and its rules
    (all None when the room cannot be read, or the show has none)."""

    phase: str | None = None
    opens_at: datetime | None = None
    starts_at: datetime | None = None
    queue_mode: str | None = None
    grace_seconds: int | None = None
    session_seconds: int | None = None


@dataclass(frozen=True)
class PlaceNumbers:
    """A waiting fan's numbers, from a ``status``/``join`` answer and the room's progress."""

    position: int | None = None
    total_in_queue: int | None = None
    ticket_number: int | None = None
    estimated_wait_seconds: int | None = None
    estimated_wait_reason: str | None = None  # why there is no estimate (PAUSED, SOLD_OUT, …)
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
    rules: list[str]
    countdown_label: str
    countdown_text: str
    countdown_iso: str
    leave_question: str


def progress_percent(ahead: int, initial_ahead: int | None) -> int:
    """How far a fan has come since joining: 0 at the start, 100 at the front."""
    start = max(initial_ahead or 0, ahead)
    if start == 0:
        return 100
    return max(0, min(100, round(100 * (start - ahead) / start)))


def wait_seconds(
    ahead: int, observed_per_minute: float | None, estimate: int | None
) -> float | None:
    """The room's own estimate (its model, ``admission/eta.py``, the one whose error the room
    measures and publishes); the fans ahead over the admission rate observed only without one."""
    if estimate is not None:
        return estimate
    if observed_per_minute and observed_per_minute > 0:
        return ahead * 60 / observed_per_minute
    return None


def eta_text(loc: Locale, ahead: int | None, numbers: PlaceNumbers) -> str:
    """The wait in words, or why there is none (a paused room promises nothing)."""
    if numbers.estimated_wait_reason:
        return loc.t(f"eta.reason.{numbers.estimated_wait_reason}")
    if ahead is None:
        return loc.t("eta.unknown")
    return loc.duration(wait_seconds(ahead, numbers.observed_per_minute,
                                     numbers.estimated_wait_seconds))


def chance_text(loc: Locale, chance: Chance | None) -> str:
    """How likely tickets are at the fan's place, in plain words with the numbers behind it."""
    if chance is None:
        return ""
    return loc.t(f"queue.chance.{chance.level}", seats=loc.number(chance.seats_left),
                 people=loc.number(chance.people_ahead))


def span_text(loc: Locale, seconds: int) -> str:
    """A length of time as words: "45 seconds", "1 minute", "10 minutes", "1 hr 30 min"."""
    if seconds < 60 or (seconds % 60 and seconds < 600):  # noqa: PLR2004 - a minute, ten
        return loc.plural("queue.span.seconds", seconds)
    minutes = round(seconds / 60)
    if minutes < 60:  # noqa: PLR2004 - an hour
        return loc.plural("queue.span.minutes", minutes)
    return loc.t("queue.span.hours_minutes", hours=loc.number(minutes // 60),
                 minutes=loc.number(minutes % 60))


def rules_for(loc: Locale, room: RoomFacts) -> list[str]:
    """How this queue works, in the room's own numbers: the order, how long a fan may be away
    and keep the place, and how long a turn lasts once it comes."""
    rules: list[str] = []
    if room.queue_mode == "FIFO":
        rules.append(loc.t("queue.rules.fifo"))
    elif room.queue_mode == "RANDOM_PREQUEUE":
        rules.append(loc.t("queue.rules.random"))
    if room.grace_seconds:
        rules.append(loc.t("queue.rules.away", span=span_text(loc, room.grace_seconds)))
    if room.session_seconds:
        rules.append(loc.t("queue.rules.session", span=span_text(loc, room.session_seconds)))
    return rules


def countdown_text(loc: Locale, seconds: float) -> str:
    """Time left as "2 days 03:14:05" or "03:14:05" (lib: queue-view.js countdown)."""
    left = max(0, int(seconds))
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{loc.plural('queue.countdown.days', days)} {clock}" if days else clock


def countdown_target(state: str, room: RoomFacts, now: datetime) -> tuple[str, datetime | None]:
    """What the page counts down to in ``state`` (the sale's start or the queue's opening)."""
    if state == "not_open" and room.opens_at and room.opens_at > now:
        return "queue.countdown.opens", room.opens_at
    before_sale = state == "prequeue" or (state == "joining" and room.phase == "PREQUEUE")
    if before_sale and room.starts_at and room.starts_at > now:
        return "queue.countdown.sale", room.starts_at
    return "", None


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
    room: RoomFacts | None = None, notice_override: str | None = None,
    now: datetime | None = None,
) -> QueueView:
    """The page's first render for ``state``."""
    has_place = numbers is not None
    numbers = numbers or PlaceNumbers()
    room = room or RoomFacts()
    now = now or datetime.now(UTC)
    opens_at, starts_at = room.opens_at, room.starts_at
    opens_at_text = formats.date_time(loc, opens_at, show.timezone) if opens_at else ""
    starts_at_text = formats.date_time(loc, starts_at, show.timezone) if starts_at else ""
    countdown_key, countdown_at = countdown_target(state, room, now)
    position = numbers.position
    ahead = max(0, position - 1) if position is not None else None
    percent = progress_percent(ahead, numbers.initial_ahead) if ahead is not None else 0
    refresh = REFRESH_SECONDS.get(state)
    if state == "confirm_leave":
        low, high = CONFIRM_REFRESH_SECONDS
        refresh = max(low, min(high, (room.grace_seconds or 2 * high) // 2))
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
        "opensAt": opens_at.isoformat() if opens_at else None,
        "startsAt": starts_at.isoformat() if starts_at else None,
        "phase": room.phase,
        "dates": formats.script_dates(loc, show.timezone or formats.DEFAULT_TIMEZONE, now=now),
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
        show_time_text=formats.date_time(loc, show.show_time, show.timezone, now=now)
        if show.show_time else "",
        show_place=loc.t("queue.show_place", theater=show.theater, city=show.city)
        if show.theater and show.city else place,
        position_text=loc.number(position) if position is not None else "–",
        ahead_text=(loc.t("queue.nobody_ahead") if ahead == 0
                    else loc.plural("queue.people_ahead", ahead) if ahead is not None else ""),
        percent=percent,
        progress_text=loc.t("queue.progress_text", percent=loc.number(percent)),
        eta_text=eta_text(loc, ahead, numbers),
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
        rules=rules_for(loc, room),
        countdown_label=loc.t(countdown_key) if countdown_key else "",
        countdown_text=countdown_text(loc, (countdown_at - now).total_seconds())
        if countdown_at else "",
        countdown_iso=countdown_at.isoformat() if countdown_at else "",
        leave_question=loc.t("queue.leave_confirm.text_place", position=loc.number(position))
        if position is not None else loc.t("queue.leave_confirm.text"),
    )
