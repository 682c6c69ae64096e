"""Helpers of the booking-page browser tests: a booking made and paid through the API, and the
pages opened with the token a fan's browser would hold."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.browser.conftest import DESKTOP, LiveServer, OpenPage, wait_until
from tests.browser.seat_support import lock_by_api


async def checkout_by_api(server: LiveServer, show_id: str, token: str, seat_ids: list[str],
                          *, lock_id: str | None = None) -> dict[str, Any]:
    """Lock ``seat_ids`` (unless ``lock_id`` is given) and check out: the checkout answer with
    its ``lockId``."""
    if lock_id is None:
        lock_id = (await lock_by_api(server, show_id, token, seat_ids))["lockId"]
    async with server.client(Authorization=f"Bearer {token}") as http:
        answer = await http.post(
            "/api/v1/bookings", headers={"Idempotency-Key": uuid.uuid4().hex},
            json={"lockId": lock_id, "paymentMethod": "CARD", "email": "ray@example.in"})
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = {**answer.json(), "lockId": lock_id}
    return found


async def settle(server: LiveServer, payment_id: str, outcome: str, token: str) -> None:
    """The sandbox gateway completes the charge (and sends its signed webhook), as the fan
    whose ``token`` (access or booking token) owns the payment."""
    async with server.client(Authorization=f"Bearer {token}") as http:
        done = await http.post(f"/sandbox/payments/{payment_id}/complete",
                               json={"outcome": outcome})
    assert done.status_code in {200, 202}, done.text


async def booking_status(server: LiveServer, booking_id: str, token: str) -> dict[str, Any]:
    async with server.client(Authorization=f"Bearer {token}") as http:
        answer = await http.get(f"/api/v1/bookings/{booking_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def paid_booking(server: LiveServer, show_id: str, token: str,
                       seat_ids: list[str]) -> dict[str, Any]:
    """A CONFIRMED booking of ``seat_ids``: the checkout answer."""
    checkout = await checkout_by_api(server, show_id, token, seat_ids)
    await settle(server, checkout["paymentId"], "SUCCESS", token)

    async def confirmed() -> bool:
        return (await booking_status(server, checkout["bookingId"], token))["status"] == "CONFIRMED"

    assert await wait_until(confirmed, 10)
    return checkout


async def open_with_token(open_page: OpenPage, server: LiveServer, show_id: str, token: str,
                          path: str, *, viewport: dict[str, int] | None = None,
                          language: str = "en-IN") -> Any:
    """A page at ``path`` in a browser holding the show's access token (as the queue page
    leaves it in sessionStorage)."""
    page = await open_page(viewport=viewport or DESKTOP, language=language)
    await page.context.add_init_script(
        f"window.sessionStorage.setItem({json.dumps(f'access_token:{show_id}')}, "
        f"{json.dumps(token)});")
    await page.goto(f"{server.base_url}{path}")
    return page
