"""The console's fraud review in headless Chromium against a real server (default settings):
a buyer who books one show three times within minutes, the last time four seats on a new
address, is held for review; the operator sees the reasons and approves or rejects from the
page's dialog. Screenshots at 1440 x 900, axe-core checks, English and Hindi."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import LiveServer, OpenPage
from tests.browser.test_operator_console import CONSOLE, confirm_in_dialog, sign_in
from tests.browser.test_pages import open_with_token, wait_for_state
from tests.browser.test_queue_page import assert_no_serious_violations
from tests.conftest import OPERATOR_TOKEN


@pytest.fixture(scope="session")
def server_redis_url(redis_url: str) -> str:
    """As in test_operator_console: alone, share the suite's Redis database."""
    return redis_url


async def book(http: httpx.AsyncClient, show_id: str, token: str, seats: list[str],
               email: str) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    locked = await http.post("/api/v1/bookings/lock", json={"showId": show_id, "seatIds": seats},
                             headers=auth)
    assert locked.status_code == 200, locked.text
    made = await http.post("/api/v1/bookings", json={
        "lockId": locked.json()["lockId"], "paymentMethod": "UPI", "email": email},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def held_for_review(server: LiveServer, show_id: str, token: Callable[..., str],
                          singles: list[str], bulk: list[str]) -> tuple[str, str]:
    """Three bookings by one new address (1, 1, then 4 seats): REPEAT_BOOKINGS (40) and
    BULK_ON_FRESH_IDENTITY (30) pass the default 60; paid, the last is REVIEW. Its id and
    the access token of the fan who made it."""
    email = f"scalper-{uuid.uuid4().hex[:6]}@example.com"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as http:
        for seat in singles:
            await book(http, show_id, token(show_id), [seat], email)
        fan = token(show_id)
        held = await book(http, show_id, fan, bulk, email)
        paid = await http.post(f"/sandbox/payments/{held['paymentId']}/complete",
                               json={"outcome": "SUCCESS"},
                               headers={"Authorization": f"Bearer {fan}"})
        assert paid.status_code == 200, paid.text
    booking: str = held["bookingId"]
    return booking, fan


async def test_an_operator_reviews_held_bookings_in_the_console(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path,
    access_token: Callable[..., str],
) -> None:
    base = live_server.base_url
    show_id = await live_server.create_show("Review Night")
    keep, fan = await held_for_review(live_server, show_id, access_token, ["A1", "A2"],
                                      ["B1", "B2", "B3", "B4"])
    drop, _ = await held_for_review(live_server, show_id, access_token, ["A3", "A4"],
                                    ["B5", "B6", "B7", "B8"])
    # The fan's booking page says the booking is paid and being checked (no ticket yet).
    fan_page = await open_with_token(open_page, show_id, fan)
    await fan_page.goto(f"{base}/bookings/{keep}")
    await wait_for_state(fan_page, "booking", "review")
    assert await fan_page.get_by_role("heading", name=re.compile("checking this booking")
                                      ).is_visible()
    await assert_no_serious_violations(fan_page, axe_source, "booking held for review")
    await fan_page.screenshot(path=str(screenshots / "booking-review.png"), full_page=True)
    page = await open_page(viewport=CONSOLE)
    page.set_default_timeout(60_000)
    await sign_in(page, base)
    await page.get_by_role("link", name="Reviews").click()
    await page.goto(f"{base}/admin/reviews?show={show_id}")
    rows = page.locator("[data-review]")
    assert await rows.count() == 2
    row = page.locator(f'[data-review="{keep}"]')
    assert await row.locator('[data-reason="REPEAT_BOOKINGS"]').count() == 1
    assert await row.locator('[data-reason="BULK_ON_FRESH_IDENTITY"]').count() == 1
    assert await row.locator("[data-risk-score]").text_content() == "70"
    await page.screenshot(path=str(screenshots / "operator-reviews.png"), full_page=True)
    await assert_no_serious_violations(page, axe_source, "review list")

    await row.locator('[data-control="approve"]').click()
    await confirm_in_dialog(page)
    await page.wait_for_url(re.compile(r"/admin/reviews\?done=approve"))
    assert "approved" in (await page.locator("[role=status]").text_content() or "")
    await page.goto(f"{base}/admin/reviews?show={show_id}")
    await page.locator(f'[data-review="{drop}"] [data-control="reject"]').click()
    await confirm_in_dialog(page)
    await page.wait_for_url(re.compile(r"/admin/reviews\?done=reject"))
    await page.screenshot(path=str(screenshots / "operator-reviews-done.png"), full_page=True)
    await page.goto(f"{base}/admin/reviews?show={show_id}")
    assert await page.locator("[data-reviews-empty]").count() == 1

    hindi = await open_page(viewport=CONSOLE, language="hi-IN")
    await hindi.goto(f"{base}/admin/login")
    await hindi.get_by_label("ऑपरेटर टोकन").fill(OPERATOR_TOKEN)
    await hindi.get_by_role("button", name="साइन इन करें").click()
    await hindi.goto(f"{base}/admin/reviews?show={show_id}")
    assert await hindi.get_by_role("heading", name="समीक्षा के लिए रोकी गई बुकिंग").is_visible()
    await assert_no_serious_violations(hindi, axe_source, "review list in Hindi")
    await hindi.screenshot(path=str(screenshots / "operator-reviews-hi.png"), full_page=True)

    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        left = await http.get("/api/v1/admin/reviews", params={"show": show_id}, headers=auth)
    assert left.json() == []
