"""The seat and checkout pages in each of their states: no serious or critical axe-core
violation, and screenshots at 1280×800 and 390×844 for a person to look at. Also the pages'
languages, the narrow row-by-row mode and its touch targets, and the fan who never queued."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import DESKTOP, OPERATOR, PHONE, LiveServer, OpenPage, wait_until
from tests.browser.seat_support import (
    create_hall_show,
    lock_by_api,
    open_admitted,
    seat_states,
    seat_status,
    wait_for_state,
)
from tests.browser.test_queue_page import assert_no_serious_violations
from tests.browser.test_seat_contention import stale_seat_map

SIZES = {"desktop": DESKTOP, "phone": PHONE}


async def book_by_api(server: LiveServer, show_id: str, token: str, seats: list[str]) -> None:
    """Lock, check out and pay (sandbox) ``seats`` as another fan, until they are BOOKED."""
    lock = await lock_by_api(server, show_id, token, seats)
    async with server.client(Authorization=f"Bearer {token}") as http:
        booking = await http.post("/api/v1/bookings", headers={"Idempotency-Key": uuid.uuid4().hex},
                                  json={"lockId": lock["lockId"], "paymentMethod": "UPI",
                                        "email": "other@example.com"})
        assert booking.status_code == 201, booking.text
        paid = await http.post(f"/sandbox/payments/{booking.json()['paymentId']}/complete",
                               json={"outcome": "SUCCESS"})
        assert paid.status_code == 200, paid.text

    async def booked() -> bool:
        states = await seat_states(server, show_id, token)
        return all(states[seat] == "BOOKED" for seat in seats)

    assert await wait_until(booked, timeout_seconds=5)


async def busy_show(server: LiveServer, access_token: Callable[..., str]) -> str:
    """A show with seats booked (C4-C6) and held (D7, D8) by other fans."""
    show_id = await create_hall_show(server, "Lagaan: Once Upon a Time in India")
    await book_by_api(server, show_id, access_token(show_id), ["C4", "C5", "C6"])
    await lock_by_api(server, show_id, access_token(show_id), ["D7", "D8"])
    return show_id


async def pick(page: Any, *seats: str) -> None:
    for seat in seats:
        row = seat[0]
        if not await page.locator(f"#seat-{seat}").is_visible():  # narrow: one row at a time
            await page.locator(f"#row-picker-buttons [data-row='{row}']").click()
        await page.locator(f"#seat-{seat}").click()


async def shoot(page: Any, folder: Path, name: str) -> None:
    await page.wait_for_timeout(150)  # let the last change paint
    await page.screenshot(path=str(folder / f"{name}.png"))


async def test_the_seat_map_passes_axe_and_is_photographed_in_every_state(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """The seat page, ready with picks, with a "seat taken" problem and its offer, and in
    Hindi, at both sizes: no serious or critical axe violation; screenshots saved."""
    show_id = await busy_show(live_server, access_token)
    for size, viewport in SIZES.items():
        page = await open_admitted(open_page, live_server, show_id, access_token(show_id),
                                   viewport=viewport)
        await shoot(page, screenshots, f"seats-ready-{size}")
        await pick(page, *(["E5", "E6"] if size == "desktop" else ["B5", "B6"]))
        await assert_no_serious_violations(page, axe_source, f"seats {size}")
        await shoot(page, screenshots, f"seats-picked-{size}")

        # A seat taken by someone else just before "Hold seats" (this page's view is frozen
        # a moment in the past, so the live update cannot beat the button).
        stale = await open_page(viewport=viewport)
        await stale_seat_map(stale)
        await stale.context.add_init_script(
            f"sessionStorage.setItem('access_token:{show_id}', "
            f"{json.dumps(access_token(show_id))});")
        await stale.goto(f"{live_server.base_url}/shows/{show_id}/seats")
        await wait_for_state(stale, "seats", "ready")
        taken = "F8" if size == "desktop" else "F10"
        await pick(stale, taken)
        await lock_by_api(live_server, show_id, access_token(show_id), [taken])
        await stale.get_by_role("button", name="Hold seats").click()
        await stale.locator("#hold-problem").wait_for(state="visible")
        page = stale
        await assert_no_serious_violations(page, axe_source, f"seats problem {size}")
        await shoot(page, screenshots, f"seats-taken-{size}")

        hindi = await open_admitted(open_page, live_server, show_id, access_token(show_id),
                                    viewport=viewport, language="hi-IN")
        await pick(hindi, "G2", "G3")
        cell = hindi.get_by_role("gridcell", name="पंक्ति G, सीट 2, चुनी गई, प्रीमियम, ₹300")
        assert await cell.count() == 1
        await pick(hindi, "G2")  # picked again: let go
        cell = hindi.get_by_role("gridcell", name="पंक्ति G, सीट 2, उपलब्ध, प्रीमियम, ₹300")
        assert await cell.count() == 1
        await pick(hindi, "G2")
        assert await hindi.locator("#summary-total").text_content() == "₹600"
        await assert_no_serious_violations(hindi, axe_source, f"seats hindi {size}")
        await shoot(hindi, screenshots, f"seats-hindi-{size}")


async def test_the_checkout_page_passes_axe_and_is_photographed_in_every_state(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """The checkout page holding seats, with an e-mail error, after the hold ended, and with
    nothing on hold, at both sizes: no serious or critical axe violation; screenshots saved."""
    show_id = await create_hall_show(live_server, "Lagaan: Once Upon a Time in India")
    for size, viewport in SIZES.items():
        page = await open_admitted(open_page, live_server, show_id, access_token(show_id),
                                   viewport=viewport)
        seats = ["H1", "H2", "H3"] if size == "desktop" else ["H4", "H5", "H6"]
        await pick(page, *seats)
        await page.get_by_role("button", name="Hold seats").click()
        await wait_for_state(page, "checkout", "ready")
        await assert_no_serious_violations(page, axe_source, f"checkout {size}")
        await shoot(page, screenshots, f"checkout-ready-{size}")

        await page.get_by_label("E-mail for your ticket").fill("not-an-email")
        assert await page.locator("#hold-total").text_content() == "₹1,200"
        await page.get_by_role("button", name="Pay ₹1,200").click()
        error = page.get_by_text("Please enter an e-mail address like name@example.com.")
        await error.wait_for()
        assert await page.evaluate("document.activeElement.id") == "email"
        assert await page.get_by_label("E-mail for your ticket").get_attribute(
            "aria-invalid") == "true"
        await assert_no_serious_violations(page, axe_source, f"checkout error {size}")
        await shoot(page, screenshots, f"checkout-email-error-{size}")

        # The hold runs out: the reloaded page finds its expiry passed (as the clock would
        # have it) before its script starts.
        await page.context.add_init_script(f"""(() => {{
            const hold = JSON.parse(sessionStorage.getItem('hold:{show_id}') || 'null');
            if (!hold) return;
            hold.expiresAt = new Date(Date.now() - 1000).toISOString();
            delete hold.leftAt;
            sessionStorage.setItem('hold:{show_id}', JSON.stringify(hold));
        }})();""")
        await page.reload()
        await wait_for_state(page, "checkout", "expired")
        await assert_no_serious_violations(page, axe_source, f"checkout expired {size}")
        await shoot(page, screenshots, f"checkout-expired-{size}")

        empty = await open_page(viewport=viewport)
        await empty.context.add_init_script(
            f"sessionStorage.setItem('access_token:{show_id}', {json.dumps(access_token(show_id))});")
        await empty.goto(f"{live_server.base_url}/shows/{show_id}/checkout")
        await wait_for_state(empty, "checkout", "no-hold")
        await assert_no_serious_violations(empty, axe_source, f"checkout no hold {size}")
        await shoot(empty, screenshots, f"checkout-no-hold-{size}")


async def test_a_fan_who_never_queued_is_sent_to_the_waiting_room(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path,
) -> None:
    """Without an access token in the tab the seat page asks for nothing from the API, says
    why, and links to the show's queue page; so does the checkout page. A show without a
    waiting room says that online booking is not open instead."""
    show_id = await create_hall_show(live_server)
    await live_server.put_room(show_id)
    for size, viewport in SIZES.items():
        page = await open_page(viewport=viewport)
        calls: list[str] = []
        page.on("request", lambda r, calls=calls: calls.append(r.url) if "/api/" in r.url
                else None)
        await page.goto(f"{live_server.base_url}/shows/{show_id}/seats")
        await wait_for_state(page, "seats", "no-token")
        link = page.get_by_role("link", name="Go to the waiting room")
        assert await link.get_attribute("href") == f"/shows/{show_id}/queue"
        assert calls == []
        await assert_no_serious_violations(page, axe_source, f"no token {size}")
        await shoot(page, screenshots, f"seats-no-token-{size}")
        await page.goto(f"{live_server.base_url}/shows/{show_id}/checkout")
        await wait_for_state(page, "checkout", "no-token")
        assert await page.get_by_role("link", name="Go to the waiting room").is_visible()
    roomless = await create_hall_show(live_server)
    page = await open_page()
    await page.goto(f"{live_server.base_url}/shows/{roomless}/seats")
    await wait_for_state(page, "seats", "no-token")
    await page.get_by_role("heading", name="Online booking isn't open for this show").wait_for()
    assert await page.get_by_role("link", name="Find another show").get_attribute("href") == "/"


async def test_on_a_phone_the_map_shows_one_row_at_a_time_with_44_pixel_targets(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
) -> None:
    """At 390 px wide only the chosen row is shown, every seat and row button is at least
    44 × 44 px and fits the screen without sideways scrolling, and moving with the keyboard
    to another row shows that row."""
    show_id = await create_hall_show(live_server)
    page = await open_admitted(open_page, live_server, show_id, access_token(show_id),
                               viewport=PHONE)
    visible = await page.locator(".seat-row:visible").count()
    assert visible == 1
    await page.get_by_role("button", name="Row G", exact=True).click()
    assert await page.get_by_role("button", name="Row G", exact=True).get_attribute(
        "aria-pressed") == "true"
    boxes = await page.locator(".seat-row:visible .seat, .row-picker__button").evaluate_all(
        "els => els.map(el => el.getBoundingClientRect().toJSON())")
    assert len(boxes) == 12 + 8
    assert all(box["width"] >= 44 and box["height"] >= 44 for box in boxes), boxes
    assert all(box["right"] <= PHONE["width"] for box in boxes), boxes
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    await page.locator("#seat-G3").click()
    await page.keyboard.press("ArrowUp")
    assert await page.locator("#seat-F3").is_visible()
    assert not await page.locator("#seat-G3").is_visible()
    assert await seat_status(page, "G3") == "SELECTED"


async def test_a_fan_whose_turn_ended_is_told_and_sent_back_to_the_queue(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
) -> None:
    """When the API stops accepting the fan's access token (here: the operator revoked it)
    the seat page says the turn ended and links to the queue, and stops calling the API."""
    show_id = await create_hall_show(live_server)
    visitor = f"v-{uuid.uuid4().hex}"
    token = access_token(show_id, visitor)
    page = await open_admitted(open_page, live_server, show_id, token)
    async with live_server.client(**OPERATOR) as http:
        revoked = await http.post(f"/api/v1/admin/shows/{show_id}/visitors/{visitor}/revoke")
    assert revoked.status_code == 204, revoked.text
    await page.reload()
    await wait_for_state(page, "seats", "token-expired")
    link = page.get_by_role("link", name="Join the queue again")
    assert await link.get_attribute("href") == f"/shows/{show_id}/queue"
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/api/" in r.url else None)
    await page.wait_for_timeout(6000)  # longer than a poll
    assert calls == []
