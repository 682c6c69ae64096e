"""The hold on the checkout page: its countdown and announcements, the heartbeat, expiry,
release on leaving, a reload, and a failed payment. Short locks run on a server of their own
(``ADMITONE_LOCK_SECONDS=6``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, OpenPage, start_server, stop_server, wait_until
from tests.browser.seat_support import (
    create_hall_show,
    lock_by_api,
    open_admitted,
    seat_states,
    seat_status,
    wait_for_state,
)

SHORT_LOCK_SECONDS = 6
# The page extends every 5 s (its shortest heartbeat); a lock lives at most 3 lock periods.
LOCK_LIFE_SECONDS = 3 * SHORT_LOCK_SECONDS


@pytest.fixture(scope="module")
def short_lock_server(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[LiveServer]:
    """A server whose locks last 6 s (payments time out after 3 s)."""
    server = start_server({**server_env, "ADMITONE_LOCK_SECONDS": str(SHORT_LOCK_SECONDS),
                           "ADMITONE_PAYMENT_TIMEOUT_SECONDS": "3"},
                          tmp_path_factory.mktemp("short-lock") / "server.log")
    yield server
    stop_server(server)


async def hold_seats(page: Any, show_id: str, seats: list[str]) -> None:
    """Pick ``seats`` on the seat map, press "Hold seats", wait for the checkout page."""
    for seat in seats:
        await page.locator(f"#seat-{seat}").click()
    await page.get_by_role("button", name="Hold seats").click()
    await page.wait_for_url(f"**/shows/{show_id}/checkout")
    await wait_for_state(page, "checkout", "ready")


def timer_seconds(text: str) -> int:
    minutes, seconds = text.strip().split(":")
    return int(minutes) * 60 + int(seconds)


async def test_the_countdown_reaches_zero_the_fan_is_told_and_the_seats_are_free_again(
    short_lock_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """With 6-second locks the page extends the lock while open (heartbeat) until the lock's
    longest life; then the countdown reaches zero, the page says the hold ended and names the
    seats, another fan's map shows them free within 3 s, and "Pick seats again" brings the
    fan back with those seats picked."""
    server = short_lock_server
    show_id = await create_hall_show(server)
    other = await open_admitted(open_page, server, show_id, access_token(show_id))
    fan = await open_admitted(open_page, server, show_id, access_token(show_id))
    extends: list[int] = []
    fan.on("response", lambda r: extends.append(r.status) if r.url.endswith("/extend") else None)
    await hold_seats(fan, show_id, ["E5", "E6"])
    assert timer_seconds(await fan.locator("#timer-value").text_content() or "") <= 6
    await other.wait_for_function("document.getElementById('seat-E5').dataset.status"
                                  " === 'LOCKED'", timeout=3000)

    await wait_for_state(fan, "checkout", "expired", timeout_ms=(LOCK_LIFE_SECONDS + 10) * 1000)
    assert extends.count(200) >= 2, extends  # kept alive beyond one lock period
    heading = fan.get_by_role("heading", name="Your hold has ended")
    assert await heading.is_visible()
    assert await fan.evaluate("document.activeElement.id") == "expired-heading"
    said = await fan.locator("#expired-text").text_content() or ""
    assert "E5, E6" in said
    assert "gone back on sale" in said
    await other.wait_for_function(
        "['E5', 'E6'].every(id => document.getElementById(`seat-${id}`).dataset.status"
        " === 'AVAILABLE')", timeout=3000)
    states = await seat_states(server, show_id, access_token(show_id))
    assert states["E5"] == states["E6"] == "AVAILABLE"

    await fan.get_by_role("link", name="Pick seats again").click()
    await wait_for_state(fan, "seats", "ready")
    await fan.wait_for_function("document.getElementById('seat-E6').dataset.status"
                                " === 'SELECTED'")
    assert await seat_status(fan, "E5") == "SELECTED"
    assert "previous seats again" in (await fan.locator("#seats-info-text").text_content() or "")


async def test_the_countdown_is_announced_at_5_2_1_minutes_30_and_10_seconds(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """Screen readers hear the time left once at 5 and 2 minutes (politely), at 1 minute, 30
    and 10 seconds (assertively), and the page ends the hold at zero. (The page's clock is
    driven by the test; the lock's extension is cut off so that only the clock moves.)"""
    show_id = await create_hall_show(live_server)
    token = access_token(show_id)
    lock = await lock_by_api(live_server, show_id, token, ["B3", "B4"])
    expires_at = datetime.fromisoformat(lock["expiresAt"])
    hold = {**lock, "showId": show_id, "seatIds": ["B3", "B4"]}
    page = await open_page()
    await page.route("**/extend", lambda route: route.abort())
    await page.context.add_init_script(
        f"sessionStorage.setItem({json.dumps(f'access_token:{show_id}')}, {json.dumps(token)});"
        f"sessionStorage.setItem({json.dumps(f'hold:{show_id}')}, {json.dumps(json.dumps(hold))});")
    # Installed a moment before the pause: pausing at the install time itself races the clock.
    await page.clock.install(time=expires_at - timedelta(seconds=303))
    await page.clock.pause_at(expires_at - timedelta(seconds=302))
    await page.goto(f"{live_server.base_url}/shows/{show_id}/checkout")
    await wait_for_state(page, "checkout", "ready")
    assert await page.locator("#timer-value").text_content() == "5:02"

    heard: list[tuple[str, str]] = []
    for left, region in ((299, "polite"), (119, "polite"), (59, "urgent"), (29, "urgent"),
                         (9, "urgent")):
        now = timer_seconds(await page.locator("#timer-value").text_content() or "")
        await page.clock.fast_forward((now - left) * 1000)
        await page.clock.run_for(200)
        assert timer_seconds(await page.locator("#timer-value").text_content() or "") == left
        heard.append((region, (await page.locator(f"#timer-{region}").text_content() or "")))
    assert heard == [
        ("polite", "5 minutes left to pay for your seats."),
        ("polite", "2 minutes left to pay for your seats."),
        ("urgent", "1 minute left to pay for your seats."),
        ("urgent", "Only 30 seconds left to pay!"),
        ("urgent", "Only 10 seconds left to pay!"),
    ]
    await page.clock.fast_forward(10_000)
    await wait_for_state(page, "checkout", "expired")


async def test_leaving_the_checkout_page_gives_the_seats_back(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """A fan who leaves the checkout page for another page releases the hold at once (a
    beacon), not when the lock would run out."""
    show_id = await create_hall_show(live_server)
    fan = await open_admitted(open_page, live_server, show_id, access_token(show_id))
    await hold_seats(fan, show_id, ["C7", "C8"])
    watcher = access_token(show_id)
    assert (await seat_states(live_server, show_id, watcher))["C7"] == "LOCKED"

    await fan.goto(f"{live_server.base_url}/healthz")

    async def released() -> bool:
        states = await seat_states(live_server, show_id, watcher)
        return states["C7"] == states["C8"] == "AVAILABLE"

    assert await wait_until(released, timeout_seconds=3)


async def test_reloading_the_checkout_page_keeps_the_seats(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """A reload releases the old lock (it cannot be told from leaving) and the reloaded page
    holds the same seats again at once, under a new lock; the seats end up held, not free."""
    show_id = await create_hall_show(live_server)
    fan = await open_admitted(open_page, live_server, show_id, access_token(show_id))
    await hold_seats(fan, show_id, ["F1", "F2"])
    first = await fan.evaluate(f"JSON.parse(sessionStorage.getItem('hold:{show_id}')).lockId")

    await fan.reload()
    await wait_for_state(fan, "checkout", "ready")
    await fan.wait_for_function(
        f"JSON.parse(sessionStorage.getItem('hold:{show_id}')).lockId !== {json.dumps(first)}")
    await fan.wait_for_timeout(500)  # a late beacon for the old lock must change nothing
    states = await seat_states(live_server, show_id, access_token(show_id))
    assert states["F1"] == states["F2"] == "LOCKED"
    assert await fan.locator("#hold-seats li").count() == 2


async def test_after_a_failed_payment_the_seat_page_gives_the_hold_back_picked_again(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """When the payment fails on the gateway's page the hold stays (for a retry); a fan who goes
    to the seat map instead finds the seats given back and picked again, holds them and pays."""
    show_id = await create_hall_show(live_server)
    fan = await open_admitted(open_page, live_server, show_id, access_token(show_id))
    await hold_seats(fan, show_id, ["G4", "G5"])
    await fan.get_by_label("E-mail for your ticket").fill("fan@example.com")
    await fan.get_by_role("radio", name="UPI").check()
    await fan.get_by_role("button", name="Pay ₹600").click()
    await fan.wait_for_url("**/sandbox/pay/**")
    await fan.get_by_role("button", name="Fail payment").click()
    await fan.wait_for_url("**/bookings/**")
    watcher = access_token(show_id)

    states = await seat_states(live_server, show_id, watcher)
    assert states["G4"] == states["G5"] == "LOCKED"  # kept for a retry

    await fan.goto(f"{live_server.base_url}/shows/{show_id}/seats")
    await wait_for_state(fan, "seats", "ready")
    await fan.wait_for_function("document.getElementById('seat-G5').dataset.status"
                                " === 'SELECTED'")
    await fan.get_by_role("button", name="Hold seats").click()
    await wait_for_state(fan, "checkout", "ready")
    assert await fan.get_by_label("E-mail for your ticket").input_value() == "fan@example.com"
    await fan.get_by_role("button", name="Pay ₹600").click()
    await fan.wait_for_url("**/sandbox/pay/**")
    await fan.get_by_role("button", name="Pay 600.00 INR").click()
    await fan.wait_for_url("**/bookings/**")

    async def booked() -> bool:
        states = await seat_states(live_server, show_id, watcher)
        return states["G4"] == states["G5"] == "BOOKED"

    assert await wait_until(booked, timeout_seconds=5)
