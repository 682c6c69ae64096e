"""After admission: the fan's turn counted down on the seat page and at checkout, a seat others
took shown beside "Hold seats", the hold timer in view down to "Pay" on a phone, and a failed
payment that keeps the hold so the fan pays again for the same seats. English and Hindi, both
sizes, no serious axe violation, screenshots saved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.booking_flow import booking_status
from tests.browser.conftest import DESKTOP, PHONE, LiveServer, OpenPage
from tests.browser.seat_support import (
    create_hall_show,
    lock_by_api,
    open_admitted,
    seat_states,
    wait_for_state,
)
from tests.browser.test_queue_page import assert_no_serious_violations

SIZES = {"desktop": DESKTOP, "phone": PHONE}
FLOW_MS = 20_000


async def shoot(page: Any, folder: Path, name: str, *, full: bool = False) -> None:
    await page.wait_for_timeout(150)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=full)


def seconds(text: str) -> int:
    minutes, _, secs = text.strip().partition(":")
    return int(minutes) * 60 + int(secs)


async def pick(page: Any, seat: str) -> None:
    """Click a seat; on a phone first show its row with the row picker."""
    if await page.locator("#row-picker").is_visible():
        await page.locator(f'#row-picker-buttons [data-row="{seat[0]}"]').click()
    await page.locator(f"#seat-{seat}").click()


async def in_view(page: Any, selector: str) -> bool:
    """The element's box lies inside the viewport."""
    inside: bool = await page.locator(selector).evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }")
    return inside


async def test_the_seat_page_counts_down_the_fans_turn(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """The seat page shows how long the fan's turn (the access token) lasts, beside the map and
    in the summary, in both languages; red in its last two minutes; at its end the page says
    the turn is over."""
    show_id = await create_hall_show(live_server)
    for size, viewport in SIZES.items():
        for language in ("en-IN", "hi-IN"):
            page = await open_admitted(open_page, live_server, show_id,
                                       access_token(show_id, ttl_seconds=300),
                                       viewport=viewport, language=language)
            await page.locator("#access-timer").wait_for(state="visible")
            left = seconds(await page.locator("#access-value").text_content() or "")
            assert 280 <= left <= 300, left
            label = await page.locator("#access-timer").text_content() or ""
            assert ("Your turn ends in" if language == "en-IN" else "आपकी बारी") in label
            await pick(page, "A3")
            short = await page.locator("#summary-access").text_content() or ""
            assert ("left" if language == "en-IN" else "बाकी") in short
            await assert_no_serious_violations(page, axe_source, f"turn {size} {language}")
            await shoot(page, screenshots, f"seats-turn-{size}-{language}")

    urgent = await open_admitted(open_page, live_server, show_id,
                                 access_token(show_id, ttl_seconds=4), viewport=PHONE)
    assert await urgent.locator("#access-timer").get_attribute("class") == (
        "access-timer access-timer--urgent")
    await wait_for_state(urgent, "seats", "token-expired", timeout_ms=10_000)


async def test_a_seat_taken_while_picked_is_shown_beside_hold_seats(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """Another fan holds a seat this fan had picked: a visible notice names it in the summary,
    in view on a phone (not only for screen readers), and goes once the fan picks again."""
    show_id = await create_hall_show(live_server)
    for size, viewport in SIZES.items():
        for number, language in enumerate(("en-IN", "hi-IN")):
            row = {"desktop": "B", "phone": "C"}[size]
            mine, theirs = f"{row}{1 + 2 * number}", f"{row}{2 + 2 * number}"
            page = await open_admitted(open_page, live_server, show_id, access_token(show_id),
                                       viewport=viewport, language=language)
            await pick(page, mine)
            await pick(page, theirs)
            await lock_by_api(live_server, show_id, access_token(show_id), [theirs])
            notice = page.locator("#summary-notice")
            await notice.wait_for(state="visible", timeout=10_000)
            assert theirs in (await notice.text_content() or "")
            assert await in_view(page, "#summary-notice")
            await assert_no_serious_violations(page, axe_source, f"taken {size} {language}")
            await shoot(page, screenshots, f"seats-taken-live-{size}-{language}")
            await pick(page, f"{row}9")
            assert await notice.is_hidden()


async def hold_from_the_seat_page(page: Any, show_id: str, seats: list[str]) -> None:
    for seat in seats:
        await pick(page, seat)
    await page.locator("#hold-button").click()
    await page.wait_for_url(f"**/shows/{show_id}/checkout")
    await wait_for_state(page, "checkout", "ready")


async def test_on_a_phone_the_hold_timer_stays_in_view_down_to_pay(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """Scrolled down to "Pay" on a phone, the countdown is still on screen (sticky), in both
    languages; when the fan's turn ends before the hold, the countdown is the turn's."""
    show_id = await create_hall_show(live_server)
    for number, language in enumerate(("en-IN", "hi-IN")):
        page = await open_admitted(open_page, live_server, show_id, access_token(show_id),
                                   viewport=PHONE, language=language)
        await hold_from_the_seat_page(page, show_id, [f"E{number + 1}"])
        await page.locator("#pay-button").scroll_into_view_if_needed()
        assert await in_view(page, "#pay-button")
        assert await in_view(page, "#timer")
        await assert_no_serious_violations(page, axe_source, f"checkout sticky {language}")
        await shoot(page, screenshots, f"checkout-sticky-timer-phone-{language}")

    short = await open_admitted(open_page, live_server, show_id,
                                access_token(show_id, ttl_seconds=90), viewport=DESKTOP)
    await hold_from_the_seat_page(short, show_id, ["E5"])
    label = await short.locator("#timer-label").text_content() or ""
    assert label == "Your turn ends in: pay before then"
    assert seconds(await short.locator("#timer-value").text_content() or "") <= 90
    await shoot(short, screenshots, "checkout-turn-ends-first-desktop")


async def test_after_a_failed_payment_the_fan_pays_again_for_the_same_seats(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """The payment fails: the seats stay held (nobody else can take them), the booking page
    offers to pay again, and that goes to checkout with the same seats, where paying confirms
    a booking of them. In Hindi at phone size and English at desktop size."""
    show_id = await create_hall_show(live_server)
    for size, language, seats in (("desktop", "en-IN", ["F4", "F5"]),
                                  ("phone", "hi-IN", ["G4", "G5"])):
        token = access_token(show_id)
        page = await open_admitted(open_page, live_server, show_id, token,
                                   viewport=SIZES[size], language=language)
        await hold_from_the_seat_page(page, show_id, seats)
        await page.locator("#email").fill("ray@example.in")
        await page.locator("#pay-button").click()
        await page.wait_for_url("**/sandbox/pay/**")
        await page.locator("button[value=FAILED]").click()
        await page.wait_for_url("**/bookings/**")
        await wait_for_state(page, "booking", "failed", timeout_ms=FLOW_MS)
        states = await seat_states(live_server, show_id, access_token(show_id))
        assert {states[seat] for seat in seats} == {"LOCKED"}
        await assert_no_serious_violations(page, axe_source, f"failed {size} {language}")
        await shoot(page, screenshots, f"payment-failed-{size}-{language}", full=True)

        await page.locator("#booking-retry").click()
        await page.wait_for_url(f"**/shows/{show_id}/checkout")
        await wait_for_state(page, "checkout", "ready")
        held = await page.locator("#hold-seats li").all_text_contents()
        assert len(held) == len(seats)
        assert all(seat in " ".join(held) for seat in seats)
        await page.locator("#pay-button").click()
        await page.wait_for_url("**/sandbox/pay/**")
        await page.locator("button[value=SUCCESS]").click()
        await page.wait_for_url("**/bookings/**")
        await wait_for_state(page, "booking", "confirmed", timeout_ms=FLOW_MS)
        booking_id = page.url.rstrip("/").rsplit("/", 1)[1]
        assert (await booking_status(live_server, booking_id, token))["status"] == "CONFIRMED"
        states = await seat_states(live_server, show_id, access_token(show_id))
        assert {states[seat] for seat in seats} == {"BOOKED"}
        hold = await page.evaluate(f"sessionStorage.getItem({json.dumps(f'hold:{show_id}')})")
        assert hold is None or "bookingId" in hold
