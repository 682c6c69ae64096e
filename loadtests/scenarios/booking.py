"""(b) Booking, once admitted: seat map, lock 1-4 random seats, then check out or release.

A checkout (70 % by default) is ``POST /api/v1/bookings`` with an ``Idempotency-Key``, sometimes
sent twice as a client retrying after a timeout would (the answer must be the same booking), then
the sandbox payment is completed with ``SUCCESS`` and the booking must read ``CONFIRMED``.
The others release the lock. A 409 on a lock is expected contention: the fan tries the
alternatives the answer offers, or a fresh pick, a few times.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from typing import Any

import gevent
from locust import User

from scenarios import api
from scenarios.http import call, record

MIN_SEATS, MAX_SEATS = 1, 4
LOCK_ATTEMPTS = 3
THINK_SECONDS = (1.0, 4.0)  # the seed's "payment decision time"
RETRY_CHECKOUT_SHARE = 0.1
CONFIRM_POLLS = 3
PAYMENT_METHODS = ("CARD", "UPI", "NETBANKING", "WALLET")


def available_seat_ids(seat_map: Any) -> list[str]:
    """Ids of the seats the map shows as AVAILABLE."""
    seats = seat_map.get("seats") if isinstance(seat_map, dict) else None
    if not isinstance(seats, list):
        return []
    return [
        seat["id"] for seat in seats
        if isinstance(seat, dict) and seat.get("status") == "AVAILABLE"
        and isinstance(seat.get("id"), str)
    ]


def pick_seats(
    available: Sequence[str], rng: random.Random, low: int = MIN_SEATS, high: int = MAX_SEATS
) -> list[str]:
    """``low``..``high`` distinct random seats from ``available`` (fewer if fewer are left)."""
    if not available:
        return []
    count = min(rng.randint(low, high), len(available))
    return rng.sample(list(available), count)


def alternative_ids(conflict: Any, wanted: int) -> list[str]:
    """Up to ``wanted`` seat ids from a 409's ``alternativeSeats`` (ids or seat objects)."""
    raw = conflict.get("alternativeSeats") if isinstance(conflict, dict) else None
    ids = []
    for item in raw if isinstance(raw, list) else []:
        seat_id = item.get("id") if isinstance(item, dict) else item
        if isinstance(seat_id, str) and seat_id not in ids:
            ids.append(seat_id)
    return ids[:wanted]


def _auth(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def lock_some_seats(
    user: User, show_id: str, access_token: str, rng: random.Random
) -> dict[str, Any] | str:
    """Lock 1-4 available seats, trying again after contention; the lock, or why there is none
    (SOLD_OUT, CONTENDED or FAILED)."""
    seat_map = call(user, "GET", api.seats_path(show_id), name=api.SEATS,
                    headers=_auth(access_token))
    wanted = pick_seats(available_seat_ids(seat_map.body), rng)
    for _ in range(LOCK_ATTEMPTS):
        if not wanted:
            return "SOLD_OUT"
        answer = call(
            user, "POST", api.LOCK_PATH, name=api.LOCK, expected=(409,),
            headers=_auth(access_token), json={"showId": show_id, "seatIds": wanted},
        )
        if answer.status == 200 and isinstance(answer.body, dict) and answer.body.get("lockId"):
            return answer.body
        if answer.status != 409:
            return "FAILED"
        wanted = alternative_ids(answer.body, len(wanted))
        if not wanted:
            seat_map = call(user, "GET", api.seats_path(show_id), name=api.SEATS,
                            headers=_auth(access_token))
            wanted = pick_seats(available_seat_ids(seat_map.body), rng)
    return "CONTENDED"


def check_out(user: User, access_token: str, lock_id: str, rng: random.Random) -> bool:
    """Book the lock, pay in the sandbox, and see the booking CONFIRMED."""
    key = str(uuid.uuid4())
    request = {
        "lockId": lock_id,
        "paymentMethod": rng.choice(PAYMENT_METHODS),
        "email": f"fan-{uuid.uuid4().hex[:12]}@example.com",
    }
    headers = {**_auth(access_token), "Idempotency-Key": key}
    created = call(user, "POST", api.BOOKINGS_PATH, name=api.CHECKOUT, ok=(201,),
                   headers=headers, json=request)
    booking = created.body if isinstance(created.body, dict) else {}
    if created.status != 201 or not booking.get("paymentId") or not booking.get("bookingId"):
        return False
    if rng.random() < RETRY_CHECKOUT_SHARE:
        again = call(user, "POST", api.BOOKINGS_PATH, name=api.CHECKOUT_RETRY, ok=(201,),
                     headers=headers, json=request)
        replayed = again.body if isinstance(again.body, dict) else {}
        same = all(replayed.get(k) == booking[k] for k in ("bookingId", "paymentId"))
        if again.status == 201 and not same:
            record_failure(user, api.CHECKOUT_RETRY, "same Idempotency-Key, different answer")
            return False
    paid = call(user, "POST", api.sandbox_complete_path(booking["paymentId"]), name=api.PAY,
                headers=_auth(access_token), json={"outcome": "SUCCESS"})
    if paid.status != 200:
        return False
    for attempt in range(CONFIRM_POLLS):
        seen = call(user, "GET", api.booking_path(booking["bookingId"]), name=api.BOOKING,
                    headers=_auth(access_token))
        status = seen.body.get("status") if isinstance(seen.body, dict) else None
        if status == "CONFIRMED":
            return True
        if attempt + 1 < CONFIRM_POLLS:
            gevent.sleep(1.0)
    record_failure(user, api.BOOKING, "booking not CONFIRMED after a successful payment")
    return False


def release(user: User, access_token: str, lock_id: str) -> bool:
    """Release the lock, as a fan who changed their mind."""
    answer = call(user, "DELETE", api.lock_release_path(lock_id), name=api.RELEASE,
                  headers=_auth(access_token))
    return answer.status == 200


def record_failure(user: User, name: str, message: str) -> None:
    """Report a broken expectation that no status code shows."""
    user.environment.events.request.fire(
        request_type="CHECK", name=name, response_time=0, response_length=0,
        exception=AssertionError(message), context={},
    )


def book(
    user: User, show_id: str, access_token: str, rng: random.Random, checkout_share: float,
    *, think_seconds: tuple[float, float] = THINK_SECONDS,
) -> str:
    """The whole booking step; answers BOOKED, RELEASED, SOLD_OUT, CONTENDED or FAILED."""
    started = time.monotonic()
    lock = lock_some_seats(user, show_id, access_token, rng)
    if isinstance(lock, str):
        record(user.environment, "FLOW", f"booking {lock}", (time.monotonic() - started) * 1000)
        return lock
    gevent.sleep(rng.uniform(*think_seconds))
    if rng.random() < checkout_share:
        outcome = "BOOKED" if check_out(user, access_token, lock["lockId"], rng) else "FAILED"
    else:
        outcome = "RELEASED" if release(user, access_token, lock["lockId"]) else "FAILED"
    record(user.environment, "FLOW", f"booking {outcome}", (time.monotonic() - started) * 1000)
    return outcome
