"""(a) The surge: a fan joins a show's queue and waits to be admitted.

As the queue page does (CONTRACT.md "Fans: the queue"): join once, poll the shared ``progress``
every second and compare ``admittedThrough`` with the own ``ticketNumber``; call ``status`` with
the ``X-Queue-Token`` every 30 seconds to keep the place alive, and every second once near the
front. ``status`` answering ``ADMITTED`` hands over the ``accessToken``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gevent
from locust import User

from scenarios import api
from scenarios.http import Answer, call, record

PROGRESS_INTERVAL_SECONDS = 1.0
STATUS_INTERVAL_SECONDS = 30.0
# "Near the front": within this many tickets, or this many seconds of admissions, of being let in.
NEAR_FRONT_TICKETS = 5
NEAR_FRONT_SECONDS = 5.0
JOIN_ATTEMPTS = 5


@dataclass
class Place:
    """A fan's place in the queue, as the last answers described it."""

    token: str
    ticket_number: int | None
    status: str
    estimated_wait_seconds: float | None = None
    access_token: str | None = None


def near_front(
    ticket_number: int | None,
    admitted_through: int | None,
    admissions_per_minute: float | None,
    estimated_wait_seconds: float | None,
) -> bool:
    """Whether the fan is close enough to admission to ask ``status`` every second."""
    if estimated_wait_seconds is not None and estimated_wait_seconds <= NEAR_FRONT_SECONDS:
        return True
    if ticket_number is None or admitted_through is None:
        return False
    per_second = max(admissions_per_minute or 0.0, 0.0) / 60.0
    margin = max(NEAR_FRONT_TICKETS, int(per_second * NEAR_FRONT_SECONDS))
    return admitted_through + margin >= ticket_number


def status_due(now: float, last_status_at: float, *, is_near_front: bool) -> bool:
    """Whether to call ``status`` now: every poll near the front, else every 30 seconds."""
    return is_near_front or now - last_status_at >= STATUS_INTERVAL_SECONDS


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def join(user: User, show_id: str) -> Place | None:
    """Join the queue; wait out 429s (Retry-After) a few times. None when no place was had."""
    for _ in range(JOIN_ATTEMPTS):
        answer = call(user, "POST", api.join_path(show_id), name=api.JOIN, expected=(429,))
        if answer.status == 429:  # back-pressure: wait as told
            gevent.sleep(answer.retry_after_seconds)
            continue
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status != 200 or not isinstance(body.get("token"), str):
            return None
        ticket = _number(body.get("ticketNumber"))
        return Place(
            token=body["token"],
            ticket_number=int(ticket) if ticket is not None else None,
            status=str(body.get("status", "WAITING")),
            estimated_wait_seconds=_number(body.get("estimatedWaitSeconds")),
        )
    return None


def check_status(user: User, show_id: str, place: Place) -> Answer:
    """Ask ``status``: refreshes the place's ``lastSeen``; ADMITTED brings the access token."""
    answer = call(
        user, "GET", api.status_path(show_id), name=api.STATUS,
        headers={"X-Queue-Token": place.token}, expected=(410, 429),
    )
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status == 200:
        place.status = str(body.get("status", place.status))
        place.estimated_wait_seconds = _number(body.get("estimatedWaitSeconds"))
        if place.status == "ADMITTED" and isinstance(body.get("accessToken"), str):
            place.access_token = body["accessToken"]
    return answer


def leave(user: User, show_id: str, place: Place) -> None:
    """Give the place up, as a fan closing the page would."""
    call(user, "DELETE", api.leave_path(show_id), name=api.LEAVE, ok=(204, 200),
         expected=(401, 410), headers={"X-Queue-Token": place.token})


def wait_for_admission(user: User, show_id: str, max_wait_seconds: float) -> str | None:
    """Join and wait until admitted; the access token, or None (gave up, place lost, closed)."""
    started = time.monotonic()
    place = join(user, show_id)
    if place is None:
        return None
    last_status_at = time.monotonic()  # joining counts as being seen
    if place.status == "ADMITTED":
        check_status(user, show_id, place)
        last_status_at = time.monotonic()
    deadline = started + max_wait_seconds
    while place.access_token is None:
        if time.monotonic() >= deadline:
            record(user.environment, "FLOW", "gave up waiting (max queue time)")
            leave(user, show_id, place)
            return None
        gevent.sleep(PROGRESS_INTERVAL_SECONDS)
        progress = call(user, "GET", api.progress_path(show_id), name=api.PROGRESS, expected=(429,))
        shown = progress.body if isinstance(progress.body, dict) else {}
        if shown.get("status") == "CLOSED":
            record(user.environment, "FLOW", "queue closed")
            return None
        admitted_through = _number(shown.get("admittedThrough"))
        front = near_front(
            place.ticket_number,
            int(admitted_through) if admitted_through is not None else None,
            _number(shown.get("observedAdmissionsPerMinute")),
            place.estimated_wait_seconds,
        )
        if not status_due(time.monotonic(), last_status_at, is_near_front=front):
            continue
        answer = check_status(user, show_id, place)
        last_status_at = time.monotonic()
        if answer.status == 410:  # the place expired
            record(user.environment, "FLOW", "place expired")
            return None
        if answer.status not in (200, 429):
            return None
    record(user.environment, "FLOW", "queue wait until admitted",
           (time.monotonic() - started) * 1000)
    return place.access_token
