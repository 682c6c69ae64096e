"""Helpers for the booking tests: a PENDING booking through the API, and confirming it.

Confirmation pays through the sandbox gateway, whose signed webhook settles the payment, as a
fan's payment would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import httpx

from admitone.runtime import Services
from tests.conftest import ShowFixture, bearer


@dataclass(frozen=True)
class BookingFixture:
    id: str
    reference: str
    payment_id: str
    visitor: str
    token: str
    show: ShowFixture
    seats: list[str]
    email: str
    amount: str


async def pending_booking(
    client: httpx.AsyncClient,
    show: ShowFixture,
    access_token: Callable[..., str],
    seats: list[str] | None = None,
    email: str = "Fan.One@Example.com",
) -> BookingFixture:
    """Lock seats and check out: a PENDING booking with an INITIATED payment."""
    seats = seats or ["A1", "A2"]
    visitor = f"v-{uuid.uuid4().hex}"
    token = access_token(show.id, visitor)
    lock = await client.post(
        "/api/v1/bookings/lock", json={"showId": show.id, "seatIds": seats}, headers=bearer(token)
    )
    assert lock.status_code == 200, lock.text
    checkout = await client.post(
        "/api/v1/bookings",
        json={"lockId": lock.json()["lockId"], "paymentMethod": "CARD", "email": email},
        headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert checkout.status_code == 201, checkout.text
    body = checkout.json()
    reference = await _reference(client, body["bookingId"], token)
    return BookingFixture(
        id=body["bookingId"],
        reference=reference,
        payment_id=body["paymentId"],
        visitor=visitor,
        token=token,
        show=show,
        seats=sorted(seats),
        email=email,
        amount=body["amount"],
    )


async def _reference(client: httpx.AsyncClient, booking_id: str, token: str) -> str:
    response = await client.get(f"/api/v1/bookings/{booking_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    reference: str = response.json()["reference"]
    return reference


async def confirm(client: httpx.AsyncClient, services: Services, booking: BookingFixture) -> None:
    """Pay the booking: booking CONFIRMED, seats BOOKED, a booking.confirmed outbox row.

    Through the sandbox gateway when it is on (its signed webhook settles the payment, and it
    knows the charge was paid, so refunds of it work), else straight through settlement.
    """
    if services.sandbox is not None:
        done = await client.post(
            f"/sandbox/payments/{booking.payment_id}/complete", json={"outcome": "SUCCESS"},
            headers=bearer(booking.token),
        )
        assert done.status_code == 200, done.text
        assert done.json()["delivery"] == "DELIVERED", done.text
    else:
        await services.payments.settle(booking.payment_id, "SUCCESS", amount=Decimal(booking.amount),
                                       currency="INR")
    status = await services.pool.fetchval(
        "SELECT status FROM bookings WHERE id = $1", uuid.UUID(booking.id)
    )
    assert status == "CONFIRMED", status


async def confirmed_booking(
    client: httpx.AsyncClient,
    services: Services,
    show: ShowFixture,
    access_token: Callable[..., str],
    seats: list[str] | None = None,
    *,
    email: str = "Fan.One@Example.com",
) -> BookingFixture:
    """A CONFIRMED booking of ``seats`` by a new visitor."""
    booking = await pending_booking(client, show, access_token, seats, email)
    await confirm(client, services, booking)
    return booking
