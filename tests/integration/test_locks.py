"""Seat locks over HTTP: all or nothing, conflicts with alternatives, extend, release, expiry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from admitone.runtime import Services
from tests.conftest import MakeShow, bearer


async def test_lock_returns_seats_prices_and_total(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Locking two free seats answers 200 with their prices and the sum."""
    show = await make_show()
    response = await client.post(
        "/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A2", "A1"]},
        headers=bearer(access_token(show.id)),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["id"] for s in body["seats"]] == ["A1", "A2"]
    assert body["totalAmount"] == "400.00"
    assert body["currency"] == "INR"


async def test_conflict_names_taken_seats_and_suggests_adjacent_ones(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """A 409 lists the taken seats and offers free seats side by side, and changes nothing."""
    show = await make_show()
    first = await client.post("/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A5"]},
                              headers=bearer(access_token(show.id)))
    assert first.status_code == 200
    second = await client.post(
        "/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A4", "A5"]},
        headers=bearer(access_token(show.id)),
    )
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    problem = second.json()
    assert problem["error"] == "SEAT_UNAVAILABLE"
    assert problem["unavailableSeats"] == ["A5"]
    alternatives = problem["alternativeSeats"]
    assert len(alternatives) == 2
    assert "A5" not in alternatives
    assert alternatives[0][0] == alternatives[1][0]  # one row
    numbers = sorted(int(a[1:]) for a in alternatives)
    assert numbers[1] - numbers[0] == 1  # adjacent
    a4 = await services.pool.fetchval(
        "SELECT status FROM show_seats WHERE show_id = $1 AND seat_id = 'A4'", __import__("uuid").UUID(show.id))
    assert a4 == "AVAILABLE"
