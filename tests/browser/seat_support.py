"""Helpers of the seat-page browser tests: a show with several seat types, a fan already
admitted (its access token put where the queue page puts it), reading the seat grid."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.browser.conftest import DESKTOP, OPERATOR, LiveServer, OpenPage

PAGE_TIMEOUT_MS = 15_000
# Rows A-E regular, F-G premium (x1.5), H recliners (x2): 8 rows of 12 seats.
LAYOUT = [
    *({"name": row, "seats": 12, "seatType": "REGULAR", "priceMultiplier": "1.00"}
      for row in "ABCDE"),
    *({"name": row, "seats": 12, "seatType": "PREMIUM", "priceMultiplier": "1.50"}
      for row in "FG"),
    {"name": "H", "seats": 10, "seatType": "RECLINER", "priceMultiplier": "2.00"},
]


async def create_hall_show(server: LiveServer, title: str | None = None,
                           layout: list[dict[str, Any]] | None = None) -> str:
    """A show in a hall of several seat types (base price ₹200); its id."""
    async with server.client(**OPERATOR) as http:
        movie = await http.post("/api/v1/admin/movies", json={
            "title": title or f"Seat Test {uuid.uuid4().hex[:6]}", "durationMinutes": 160,
            "language": "Hindi", "genre": "Drama"})
        assert movie.status_code == 201, movie.text
        theater = await http.post("/api/v1/admin/theaters", json={
            "name": "Liberty Cinema", "city": "Mumbai", "address": "Marine Lines"})
        assert theater.status_code == 201, theater.text
        screen = await http.post(f"/api/v1/admin/theaters/{theater.json()['id']}/screens",
                                 json={"name": "Audi 1", "layout": {"rows": layout or LAYOUT}})
        assert screen.status_code == 201, screen.text
        when = (datetime.now(UTC) + timedelta(days=2)).replace(hour=14, minute=0, second=0,
                                                                microsecond=0)
        show = await http.post("/api/v1/admin/shows", json={
            "movieId": movie.json()["id"], "screenId": screen.json()["id"],
            "showTime": when.isoformat(), "basePrice": "200.00", "currency": "INR"})
        assert show.status_code == 201, show.text
        show_id: str = show.json()["id"]
        return show_id


def seats_url(server: LiveServer, show_id: str) -> str:
    return f"{server.base_url}/shows/{show_id}/seats"


async def open_admitted(open_page: OpenPage, server: LiveServer, show_id: str, token: str, *,
                        viewport: dict[str, int] | None = None, language: str = "en-IN",
                        ready: bool = True) -> Any:
    """A fan's page on the seat map, its access token in sessionStorage as the queue page
    leaves it (set before any script of the page runs)."""
    page = await open_page(viewport=viewport or DESKTOP, language=language)
    await page.context.add_init_script(
        f"window.sessionStorage.setItem({json.dumps(f'access_token:{show_id}')}, "
        f"{json.dumps(token)});")
    await page.goto(seats_url(server, show_id))
    if ready:
        await wait_for_state(page, "seats", "ready")
    return page


async def wait_for_state(page: Any, root_id: str, *states: str,
                         timeout_ms: int = PAGE_TIMEOUT_MS) -> str:
    await page.wait_for_function(
        "([id, states]) => states.includes(document.getElementById(id)?.dataset.state)",
        arg=[root_id, list(states)], timeout=timeout_ms)
    state: str = await page.locator(f"#{root_id}").get_attribute("data-state")
    return state


async def seat_status(page: Any, seat_id: str) -> str | None:
    status: str | None = await page.locator(f"#seat-{seat_id}").get_attribute("data-status")
    return status


async def focused_seat(page: Any) -> str | None:
    found: str | None = await page.evaluate("document.activeElement?.dataset?.seat ?? null")
    return found


async def seat_states(server: LiveServer, show_id: str, token: str) -> dict[str, str]:
    """The seat map as the API gives it now: id → status."""
    async with server.client(Authorization=f"Bearer {token}") as http:
        response = await http.get(f"/api/v1/shows/{show_id}/seats")
    assert response.status_code == 200, response.text
    return {seat["id"]: seat["status"] for seat in response.json()["seats"]}


async def lock_by_api(server: LiveServer, show_id: str, token: str,
                      seat_ids: list[str]) -> dict[str, Any]:
    async with server.client(Authorization=f"Bearer {token}") as http:
        response = await http.post("/api/v1/bookings/lock",
                                   json={"showId": show_id, "seatIds": seat_ids})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found
