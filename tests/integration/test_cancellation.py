"""Cancellation: the refund policy, one refund however often it is asked, seats freed at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
from redis.asyncio import Redis

from admitone.booking_core.keys import seat_channel
from admitone.runtime import Services
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import BookingFixture, confirmed_booking, pending_booking


async def _cancel(client: httpx.AsyncClient, booking: BookingFixture) -> httpx.Response:
    return await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))


async def _state(services: Services, booking: BookingFixture) -> dict[str, object]:
    """What the database says about the booking, its seats, payment and refunds."""
    booking_id = uuid.UUID(booking.id)
    pool = services.pool
    return {
        "booking": await pool.fetchval("SELECT status FROM bookings WHERE id = $1", booking_id),
        "payment": await pool.fetchval(
            "SELECT status FROM payments WHERE booking_id = $1", booking_id
        ),
        "seats": [
            tuple(row)
            for row in await pool.fetch(
                "SELECT seat_id, status, holder FROM show_seats WHERE show_id = $1"
                " AND seat_id = ANY ($2) ORDER BY seat_id",
                uuid.UUID(booking.show.id),
                booking.seats,
            )
        ],
        "held": await pool.fetchval(
            "SELECT bool_or(held) FROM booking_seats WHERE booking_id = $1", booking_id
        ),
        "refunds": [
            tuple(row)
            for row in await pool.fetch(
                "SELECT id::text, amount::text, reason, status FROM refunds WHERE booking_id = $1",
                booking_id,
            )
        ],
        "outbox": sorted(
            row["topic"]
            for row in await pool.fetch(
                "SELECT topic FROM outbox WHERE payload->>'bookingId' = $1", booking.id
            )
        ),
    }


async def test_three_days_ahead_refunds_everything(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Cancelling 3 days ahead refunds 100 %, frees the seats and writes refund, outbox and audit
    rows; the payment is REFUNDED."""
    show = await make_show(starts_in=timedelta(days=3))
    booking = await confirmed_booking(client, services, show, access_token, ["A1", "A2"])
    response = await _cancel(client, booking)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "CANCELLED"
    assert body["refundAmount"] == "400.00"
    assert body["refundStatus"] == "PENDING"
    assert body["currency"] == "INR"
    state = await _state(services, booking)
    assert state["booking"] == "CANCELLED"
    assert state["payment"] == "REFUNDED"  # a full refund; the refund row says when it is made
    assert state["seats"] == [("A1", "AVAILABLE", None), ("A2", "AVAILABLE", None)]
    assert state["held"] is False
    assert state["refunds"] == [(body["refundId"], "400.00", "CANCELLATION", "PENDING")]
    assert state["outbox"] == ["booking.cancelled", "booking.confirmed", "refund.requested"]
    audit = await services.pool.fetch(
        "SELECT entity, action, actor FROM audit_log WHERE entity_id = ANY ($1) ORDER BY id",
        [booking.id, body["refundId"]],
    )
    assert {(row["entity"], row["action"]) for row in audit} >= {
        ("booking", "CANCELLED"),
        ("refund", "REQUESTED"),
    }
    refunded = await services.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'payment' AND entity_id = $1"
        " AND action = 'REFUNDED'",
        booking.payment_id,
    )
    assert refunded == 1
    assert all(row["actor"] == booking.visitor for row in audit if row["action"] == "CANCELLED")


async def test_five_hours_ahead_refunds_half(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Between 2 and 24 h before the show the refund is 50 % of what was paid."""
    show = await make_show(starts_in=timedelta(hours=5), base_price="150.25")
    booking = await confirmed_booking(client, services, show, access_token, ["A1"])
    response = await _cancel(client, booking)
    assert response.status_code == 200, response.text
    assert response.json()["refundAmount"] == "75.13"  # half of 150.25, rounded half up
    state = await _state(services, booking)
    assert state["payment"] == "SUCCESS"  # only part of it is refunded
    assert state["refunds"] == [(response.json()["refundId"], "75.13", "CANCELLATION", "PENDING")]


async def test_one_hour_ahead_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Under 2 h before the show cancelling answers 409 and the booking stays as it was."""
    show = await make_show(starts_in=timedelta(hours=1))
    booking = await confirmed_booking(client, services, show, access_token, ["A1"])
    before = await _state(services, booking)
    response = await _cancel(client, booking)
    assert response.status_code == 409
    problem = response.json()
    assert problem["error"] == "CANCELLATION_WINDOW_CLOSED"
    assert "cancellableUntil" in problem
    assert await _state(services, booking) == before
    assert before["booking"] == "CONFIRMED"


async def test_cancelling_twice_returns_the_same_refund(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A second cancellation answers the first refund again and writes nothing new."""
    booking = await confirmed_booking(client, services, await make_show(), access_token)
    first = await _cancel(client, booking)
    after_first = await _state(services, booking)
    second = await _cancel(client, booking)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert await _state(services, booking) == after_first


async def test_concurrent_cancellations_make_one_refund(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Ten cancellations at once: all answer 200 with one refund id, and one refund row exists."""
    booking = await confirmed_booking(client, services, await make_show(), access_token)
    responses = await asyncio.gather(*(_cancel(client, booking) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.json()["refundId"] for r in responses}) == 1
    state = await _state(services, booking)
    assert len(state["refunds"]) == 1  # type: ignore[arg-type]
    assert state["outbox"] == ["booking.cancelled", "booking.confirmed", "refund.requested"]


async def test_freed_seats_can_be_locked_by_someone_else(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """After a cancellation the seat map shows the seats AVAILABLE and another fan can lock them."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["A3", "A4"])
    other = access_token(show.id)
    taken = await client.post(
        "/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A3"]}, headers=bearer(other)
    )
    assert taken.status_code == 409
    assert (await _cancel(client, booking)).status_code == 200
    seat_map = (await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(other))).json()
    states = {seat["id"]: seat["status"] for seat in seat_map["seats"]}
    assert states["A3"] == states["A4"] == "AVAILABLE"
    lock = await client.post(
        "/api/v1/bookings/lock",
        json={"showId": show.id, "seatIds": ["A3", "A4"]},
        headers=bearer(other),
    )
    assert lock.status_code == 200, lock.text


async def test_cancellation_announces_the_released_seats(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
    redis_url: str,
) -> None:
    """Live seat maps hear SEAT_RELEASED with the freed seats once the cancellation commits."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["B1", "B2"])
    listener = Redis.from_url(redis_url)
    pubsub = listener.pubsub()
    try:
        await pubsub.subscribe(seat_channel(services.settings.redis_key_prefix, show.id))
        await pubsub.get_message(timeout=1)  # the subscription confirmation
        assert (await _cancel(client, booking)).status_code == 200
        message = None
        for _ in range(20):  # earlier changes of this show may arrive first
            candidate = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if candidate and json.loads(candidate["data"])["type"] == "SEAT_RELEASED":
                message = candidate
                break
    finally:
        await pubsub.aclose()
        await listener.aclose()
    assert message is not None
    event = json.loads(message["data"])
    assert event == {"type": "SEAT_RELEASED", "showId": show.id, "seatIds": ["B1", "B2"]}


async def test_pending_booking_cannot_be_cancelled(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Only CONFIRMED bookings are cancelled; a PENDING one answers 409 BOOKING_STATE."""
    booking = await pending_booking(client, await make_show(), access_token)
    response = await _cancel(client, booking)
    assert response.status_code == 409
    assert response.json()["error"] == "BOOKING_STATE"
    state = await _state(services, booking)
    assert (state["booking"], state["refunds"]) == ("PENDING", [])


async def test_another_visitor_cannot_cancel(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Someone else's token gets 404 and the booking stays CONFIRMED."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token)
    response = await client.delete(
        f"/api/v1/bookings/{booking.id}", headers=bearer(access_token(show.id))
    )
    assert response.status_code == 404
    assert (await _state(services, booking))["booking"] == "CONFIRMED"


async def test_booking_token_from_lookup_can_cancel(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Days later, with the access token gone, a fan cancels with the token from lookup."""
    booking = await confirmed_booking(client, services, await make_show(), access_token)
    found = await client.post(
        "/api/v1/bookings/lookup", json={"reference": booking.reference, "email": booking.email}
    )
    token = found.json()["bookingToken"]
    response = await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELLED"
