"""A fan's whole journey in Chromium, as a person makes it: find the show, wait in the queue,
pick two seats with the keyboard only, hold them, pay on the gateway's page, get the ticket
with its QR code, and open the ticket again with the network cut off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.browser.conftest import DESKTOP, LiveServer, OpenPage, wait_until
from tests.browser.seat_support import (
    create_hall_show,
    focused_seat,
    seat_states,
    wait_for_state,
)

JOURNEY_TIMEOUT_MS = 20_000


async def tab_to(page: Any, check: str, limit: int = 30) -> None:
    """Press Tab until ``check`` (a script expression) holds for the focused element."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"(el => {check})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {check}")


async def press(page: Any, *keys: str) -> None:
    for key in keys:
        await page.keyboard.press(key)


async def browse_to_the_show(page: Any, server: LiveServer, title: str, show_id: str) -> None:
    """From the home page: search the title, open the movie, choose the show."""
    await page.goto(f"{server.base_url}/")
    await page.get_by_label("Search by title").fill(title)
    await page.get_by_label("City", exact=True).select_option("Mumbai")
    await page.get_by_label("Day", exact=True).select_option(label="Any day")
    await page.get_by_role("button", name="Show movies").click()
    await page.get_by_role("link", name=title).click()
    await page.locator(f"a[href='/shows/{show_id}/queue']").click()


async def pick_d5_and_d6_by_keyboard(page: Any) -> None:
    """Into the grid with Tab, around with the keys, pick with Space and Enter, then hold."""
    await tab_to(page, "el.getAttribute('role') === 'gridcell'")
    assert await focused_seat(page) == "A1"  # the first free seat holds the tab stop
    await press(page, "PageDown", "ArrowUp", "End", "Home")   # F1 → E1 → E12 → E1
    assert await focused_seat(page) == "E1"
    await press(page, "ArrowUp", *["ArrowRight"] * 4)          # D1 → D5
    assert await focused_seat(page) == "D5"
    await press(page, "Space", "ArrowRight", "Enter")          # pick D5, move, pick D6
    assert await focused_seat(page) == "D6"
    for number in (5, 6):
        cell = page.get_by_role("gridcell", name=f"Row D, Seat {number}, Selected, Regular, ₹200")
        assert await cell.get_attribute("aria-selected") == "true"
    assert await page.locator("#summary-total").text_content() == "₹400"
    await tab_to(page, "el.id === 'hold-button'")
    await press(page, "Enter")


async def check_out_and_pay(page: Any, show_id: str) -> None:
    """The checkout page with the held seats, then the sandbox gateway's page."""
    await page.wait_for_url(f"**/shows/{show_id}/checkout")
    await wait_for_state(page, "checkout", "ready")
    held = [await item.text_content() for item in await page.locator("#hold-seats li").all()]
    assert held == ["Seat D5₹200", "Seat D6₹200"]
    await page.get_by_label("E-mail for your ticket").fill("ray@example.in")
    await page.get_by_role("radio", name="Net banking").check()
    await page.get_by_role("button", name="Pay ₹400").click()
    await page.wait_for_url("**/sandbox/pay/**")
    await page.get_by_role("button", name="Pay 400.00 INR").click()
    await page.wait_for_url("**/bookings/**")


async def the_ticket_with_its_qr_code(page: Any) -> str:
    """The confirmation: booking reference, seats and a QR code that loaded; the reference."""
    await wait_for_state(page, "booking", "confirmed", timeout_ms=JOURNEY_TIMEOUT_MS)
    reference = (await page.locator("#ticket-reference").text_content() or "").strip()
    assert reference.startswith("AO")
    assert "D5" in (await page.locator("#ticket-seats").text_content() or "")
    qr = page.locator("#ticket-qr")
    await qr.wait_for(state="visible")
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    return reference


async def test_browse_queue_keyboard_seats_hold_pay_ticket_and_offline_ticket(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """The happy path end to end: home page → the movie → its show → the queue → admitted →
    two seats picked with the keyboard alone (arrows, Page Down, Home/End, Space, Enter, Tab)
    → held → paid on the sandbox page → the confirmation with booking reference and QR code →
    the ticket page opens again offline. The hold is never released on the way to paying."""
    title = "Pather Panchali"
    show_id = await create_hall_show(live_server, title)
    await live_server.put_room(show_id, releaseRatePerMinute=120)
    page = await open_page(viewport=DESKTOP)
    releases: list[str] = []
    page.on("request", lambda r: releases.append(r.url) if "/release" in r.url else None)

    await browse_to_the_show(page, live_server, title, show_id)
    # The queue lets the fan in and moves on to the seat map by itself.
    await page.wait_for_url(f"**/shows/{show_id}/seats", timeout=JOURNEY_TIMEOUT_MS)
    await wait_for_state(page, "seats", "ready")
    await pick_d5_and_d6_by_keyboard(page)
    await check_out_and_pay(page, show_id)
    booking_url = page.url
    reference = await the_ticket_with_its_qr_code(page)
    states = await seat_states(live_server, show_id, access_token(show_id))
    assert states["D5"] == states["D6"] == "BOOKED"
    assert releases == []

    # At the venue with no network: the ticket page still opens, QR code and all.
    await page.locator("#ticket-offline-ready").wait_for(state="visible",
                                                         timeout=JOURNEY_TIMEOUT_MS)
    assert await wait_until(
        lambda: page.evaluate("navigator.serviceWorker.controller !== null"), 10)
    await page.context.set_offline(True)
    try:
        await page.goto(booking_url)
        await page.locator("#ticket-reference").get_by_text(reference).wait_for()
        await page.locator("#ticket-qr").wait_for(state="visible")
        assert await page.locator("#ticket-qr").evaluate("img => img.naturalWidth > 0")
    finally:
        await page.context.set_offline(False)


async def test_a_show_without_a_waiting_room_goes_straight_to_its_seats(
    live_server: LiveServer, open_page: OpenPage
) -> None:
    """A show with no flash sale has no queue: its show link passes through the queue page,
    which joins, is admitted at once, and moves on to a working seat map."""
    title = "Jalsaghar"
    show_id = await create_hall_show(live_server, title)
    page = await open_page(viewport=DESKTOP)
    await browse_to_the_show(page, live_server, title, show_id)
    await page.wait_for_url(f"**/shows/{show_id}/seats", timeout=JOURNEY_TIMEOUT_MS)
    await wait_for_state(page, "seats", "ready")
    assert await page.get_by_role("gridcell").count() > 0
    token = await page.evaluate(f"sessionStorage.getItem('access_token:{show_id}')")
    assert token
