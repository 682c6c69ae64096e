"""The sandbox payment page in Chromium: in Hindi and English, its buttons work only in the tab
that holds the fan's own token, and axe finds nothing serious."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, LiveServer, OpenPage
from tests.browser.test_pages import open_with_token, status_of
from tests.browser.test_queue_page import assert_no_serious_violations


async def _pending(server: LiveServer, show_id: str, token: str) -> dict[str, Any]:
    """A PENDING booking of A1 (checkout answered), made with ``token``."""
    async with server.client(Authorization=f"Bearer {token}") as http:
        lock = await http.post("/api/v1/bookings/lock", json={"showId": show_id,
                                                              "seatIds": ["A1"]})
        assert lock.status_code == 200, lock.text
        checkout = await http.post(
            "/api/v1/bookings", json={"lockId": lock.json()["lockId"], "paymentMethod": "UPI",
                                      "email": "fan.sandbox@example.com"},
            headers={"Idempotency-Key": uuid.uuid4().hex})
    assert checkout.status_code == 201, checkout.text
    found: dict[str, Any] = checkout.json()
    return found


@pytest.mark.parametrize(("language", "pay", "back_heading"), [
    ("hi-IN", "250.00 INR का भुगतान करें", "सैंडबॉक्स भुगतान"),
    ("en-IN", "Pay 250.00 INR", "Sandbox payment"),
])
async def test_the_fans_tab_pays_on_the_sandbox_page(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path, language: str, pay: str, back_heading: str,
) -> None:
    """In the tab holding the fan's access token the page (in the fan's language) enables its
    buttons, and paying confirms the booking."""
    show_id = await live_server.create_show()
    token = access_token(show_id)
    checkout = await _pending(live_server, show_id, token)
    page = await open_with_token(open_page, show_id, token, language=language, viewport=PHONE)

    await page.goto(checkout["paymentUrl"])

    assert await page.get_by_role("heading", level=1).text_content() == back_heading
    button = page.get_by_role("button", name=pay)
    await button.wait_for()
    assert await button.is_enabled()
    assert await page.locator("#sandbox-no-token").is_hidden()
    await assert_no_serious_violations(page, axe_source, f"sandbox page {language}")
    await page.screenshot(path=str(screenshots / f"sandbox-pay-phone-{language}.png"),
                          full_page=True)
    await button.click()
    await page.wait_for_url("**/bookings/**")
    booking = {"id": checkout["bookingId"]}
    assert await status_of(live_server, booking, token) == "CONFIRMED"


async def test_a_tab_without_the_fans_token_cannot_pay(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """Someone who only has the payment link sees why they cannot pay, the buttons stay
    disabled, and the booking stays PENDING."""
    show_id = await live_server.create_show()
    token = access_token(show_id)
    checkout = await _pending(live_server, show_id, token)
    page = await open_page(language="en-IN", viewport=PHONE)

    await page.goto(checkout["paymentUrl"])

    await page.locator("#sandbox-no-token").wait_for(state="visible")
    assert await page.get_by_role("button", name="Fail payment").is_disabled()
    await assert_no_serious_violations(page, axe_source, "sandbox page without a token")
    await page.screenshot(path=str(screenshots / "sandbox-pay-no-token-phone-en.png"),
                          full_page=True)
    booking = {"id": checkout["bookingId"]}
    assert await status_of(live_server, booking, token) == "PENDING"
