"""Helpers for the payment tests: a checkout through the API, signed webhooks, row reads."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from admitone.booking_core.payments.signature import signature_header
from admitone.runtime import Services
from tests.conftest import WEBHOOK_SECRET, ShowFixture, bearer

WEBHOOK = "/api/v1/payments/webhook"


@dataclass(frozen=True)
class Checkout:
    visitor: str
    token: str
    lock_id: str
    booking_id: str
    payment_id: str
    amount: str
    seats: list[str]


async def lock_and_checkout(
    client: httpx.AsyncClient, show: ShowFixture, access_token: Callable[..., str],
    seats: list[str] | None = None,
) -> Checkout:
    """Lock ``seats`` (A1, A2 by default) as a new visitor and check out: booking PENDING."""
    seats = seats or ["A1", "A2"]
    visitor = f"v-{uuid.uuid4().hex}"
    token = access_token(show.id, visitor)
    lock = await client.post("/api/v1/bookings/lock", json={"showId": show.id, "seatIds": seats},
                             headers=bearer(token))
    assert lock.status_code == 200, lock.text
    lock_id = lock.json()["lockId"]
    response = await client.post(
        "/api/v1/bookings",
        # One address per fan: one address for many bookings meets the buyer seat limit.
        json={"lockId": lock_id, "paymentMethod": "CARD", "email": f"{visitor}@example.com"},
        headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Checkout(visitor, token, lock_id, body["bookingId"], body["paymentId"], body["amount"],
                    sorted(seats))


def signed(payload: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
           at: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The JSON body and headers of a webhook signed as the gateway would sign it."""
    body = msgspec.json.encode(payload)
    header = signature_header(secret, int(time.time()) if at is None else at, body)
    return body, {"Content-Type": "application/json", "X-Signature": header}


def paid(checkout: Checkout, currency: str = "INR") -> dict[str, str]:
    """What a gateway's SUCCESS reports it took: the checkout's amount in its currency."""
    return {"amount": checkout.amount, "currency": currency}


async def send_webhook(
    client: httpx.AsyncClient, payment_id: str, status: str, *, event_id: str | None = None,
    **extra: Any,
) -> httpx.Response:
    payload: dict[str, Any] = {"paymentId": payment_id, "status": status, **extra}
    if event_id is not None:
        payload["eventId"] = event_id
    body, headers = signed(payload)
    return await client.post(WEBHOOK, content=body, headers=headers)


async def complete(
    client: httpx.AsyncClient, checkout: Checkout, outcome: str, *, token: str | None = None,
    **controls: Any,
) -> httpx.Response:
    """Finish the charge at the sandbox gateway (which sends its signed webhook), as the fan
    who made the booking (its access token) unless another ``token`` is given."""
    return await client.post(f"/sandbox/payments/{checkout.payment_id}/complete",
                             json={"outcome": outcome, **controls},
                             headers=bearer(checkout.token if token is None else token))


@dataclass(frozen=True)
class State:
    payment: str
    booking: str
    lock: str
    seats: dict[str, str]


async def state_of(services: Services, checkout: Checkout, show_id: str) -> State:
    """Statuses of the checkout's payment, booking, lock and seats, straight from PostgreSQL."""
    pool = services.pool
    payment = await pool.fetchval("SELECT status FROM payments WHERE id = $1",
                                  uuid.UUID(checkout.payment_id))
    booking = await pool.fetchval("SELECT status FROM bookings WHERE id = $1",
                                  uuid.UUID(checkout.booking_id))
    lock = await pool.fetchval("SELECT status FROM seat_locks WHERE id = $1",
                               uuid.UUID(checkout.lock_id))
    rows = await pool.fetch(
        "SELECT seat_id, status FROM show_seats WHERE show_id = $1 AND seat_id = ANY($2)",
        uuid.UUID(show_id), checkout.seats,
    )
    return State(payment, booking, lock, {r["seat_id"]: r["status"] for r in rows})


async def outbox_topics(services: Services, booking_id: str) -> list[str]:
    rows = await services.pool.fetch(
        "SELECT topic FROM outbox WHERE payload->>'bookingId' = $1 ORDER BY id", booking_id
    )
    return [row["topic"] for row in rows]
