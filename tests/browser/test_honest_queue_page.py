"""The honest queue on the page, in Chromium, English and Hindi: the chance of tickets at the
fan's place, sold out (with the show's other dates), and the fan's entry in the pre-queue draw
with the link that checks it; axe-core finds nothing serious or critical on any of them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, LiveServer, OpenPage
from tests.browser.test_queue_page import (
    assert_no_serious_violations,
    queue_url,
    wait_for_state,
)

# The texts the page must show, by language (the Hindi strings are the page's own).
SOLD_OUT = {"en": "Sold out for now", "hi": "फ़िलहाल सभी टिकट बिक गए"}
UNLIKELY = {"en": "Tickets are unlikely at your place", "hi": "संभावना कम है"}
OTHER_DATES = {"en": "See the show's other dates", "hi": "इस शो की दूसरी तारीखें देखें"}


async def _sell_out(server: LiveServer, show_id: str, mint: Callable[..., str]
                    ) -> list[tuple[str, str]]:
    """Book all 20 seats of the show through the API, paid through the sandbox; each booking's
    buyer's token and id."""
    bookings = []
    for row in "AB":
        token = mint(show_id, f"buyer-{row}-{uuid.uuid4().hex[:6]}")
        async with server.client(Authorization=f"Bearer {token}") as http:
            lock = await http.post("/api/v1/bookings/lock", json={
                "showId": show_id, "seatIds": [f"{row}{n}" for n in range(1, 11)]})
            assert lock.status_code == 200, lock.text
            checkout = await http.post(
                "/api/v1/bookings", json={"lockId": lock.json()["lockId"], "paymentMethod": "CARD",
                                          "email": f"buyer-{row.lower()}@example.com"},
                headers={"Idempotency-Key": uuid.uuid4().hex})
            assert checkout.status_code == 201, checkout.text
            paid = await http.post(f"/sandbox/payments/{checkout.json()['paymentId']}/complete",
                                   json={"outcome": "SUCCESS"})
            assert paid.status_code == 200, paid.text
            bookings.append((token, checkout.json()["bookingId"]))
    return bookings


@pytest.mark.parametrize("language", ["en", "hi"])
async def test_a_sold_out_show_says_so_and_offers_other_dates(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path, language: str,
) -> None:
    """Every seat booked: the waiting fan's page says sold out at once, keeps the place, links
    the show's other dates, and has no serious accessibility violation."""
    show_id = await live_server.create_show()
    await live_server.put_room(show_id)
    await _sell_out(live_server, show_id, access_token)
    page = await open_page(viewport=DESKTOP)
    await page.goto(queue_url(live_server, show_id, f"?lang={language}"))
    await wait_for_state(page, "sold_out", timeout_ms=20_000)
    # The shared progress feed is up to a second older than the fan's status: it must not
    # flip the page back to waiting meanwhile.
    await _stays(page, "sold_out", seconds=3.0)
    assert SOLD_OUT[language] in (await page.locator("#queue-heading").text_content() or "")
    link = page.locator("#queue-other-dates a")
    assert await link.is_visible()
    assert OTHER_DATES[language] in (await link.text_content() or "")
    assert (await link.get_attribute("href") or "").startswith("/movies/")
    assert await page.locator("#queue-leave").is_visible()  # the place is kept
    assert not await page.locator("#queue-chance").is_visible()  # nothing to weigh: sold out
    await assert_no_serious_violations(page, axe_source, f"sold out {language}")
    await page.screenshot(path=str(screenshots / f"queue-sold-out-{language}.png"))


async def _stays(page: Any, state: str, *, seconds: float) -> None:
    """The page's state is ``state`` at every look over ``seconds``."""
    seen = set()
    for _ in range(int(seconds / 0.1)):
        seen.add(await page.locator("#queue").get_attribute("data-state"))
        await asyncio.sleep(0.1)
    assert seen == {state}, f"the page left {state}: {seen}"


async def test_when_a_booking_is_cancelled_the_sold_out_page_queues_again(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
) -> None:
    """Every seat sold: the page says sold out; when a buyer cancels, the room resumes by
    itself and the same page is back in the queue, its place kept."""
    show_id = await live_server.create_show()
    await live_server.put_room(show_id, paused=True)
    bookings = await _sell_out(live_server, show_id, access_token)
    page = await open_page(viewport=DESKTOP)
    await page.goto(queue_url(live_server, show_id))
    await wait_for_state(page, "sold_out", timeout_ms=20_000)
    await _stays(page, "sold_out", seconds=2.0)
    token, booking_id = bookings[0]
    async with live_server.client(Authorization=f"Bearer {token}") as http:
        cancelled = await http.delete(f"/api/v1/bookings/{booking_id}")
    assert cancelled.status_code == 200, cancelled.text
    assert await wait_for_state(page, "paused", timeout_ms=20_000) == "paused"
    assert await page.locator("#queue-leave").is_visible()  # still holding the place
    assert not await page.locator("#queue-other-dates").is_visible()


@pytest.mark.parametrize("language", ["en", "hi"])
async def test_the_page_says_how_likely_tickets_are_at_this_place(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path,
    language: str,
) -> None:
    """Thirty fans ahead for twenty seats: the page says tickets are unlikely, with the seats
    left and the people ahead, in the page's language."""
    show_id = await live_server.create_show()
    await live_server.put_room(show_id, paused=True)
    await live_server.join_fans(show_id, 30)
    # The scheduler reads the seat counts at its next tick (every second, paused rooms too).
    async with live_server.client() as http:
        for _ in range(50):
            probe = await http.post(f"/api/v1/queue/{show_id}/join",
                                    headers={"User-Agent": "probe"})
            if "chance" in probe.json():
                break
            await asyncio.sleep(0.2)
    page = await open_page(viewport=PHONE)
    await page.goto(queue_url(live_server, show_id, f"?lang={language}"))
    await wait_for_state(page, "paused", "waiting")
    chance = page.locator("#queue-chance")
    await chance.wait_for(state="visible", timeout=15_000)
    assert await chance.get_attribute("data-chance") == "UNLIKELY"
    text = await chance.text_content() or ""
    assert UNLIKELY[language] in text
    digits = "२०" if language == "hi" and "२" in text else "20"
    assert digits in text
    await assert_no_serious_violations(page, axe_source, f"chance {language}")
    await page.screenshot(path=str(screenshots / f"queue-chance-phone-{language}.png"))


async def test_a_pre_queue_fan_sees_its_entry_and_the_link_that_checks_the_draw(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path,
) -> None:
    """In a random pre-queue the page shows the fan's entry id and links the published draw,
    which answers its commitment (and nothing secret) before the draw."""
    show_id = await live_server.create_show()
    starts = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await live_server.put_room(show_id, queueMode="RANDOM_PREQUEUE", startsAt=starts)
    page = await open_page(viewport=DESKTOP)
    await page.goto(queue_url(live_server, show_id))
    await wait_for_state(page, "prequeue")
    entry = page.locator("#queue-entry-id")
    await entry.wait_for(state="visible", timeout=15_000)
    entry_id = (await entry.text_content() or "").strip()
    assert len(entry_id) == 16
    href = await page.locator("#queue-entry-check").get_attribute("href")
    assert href == f"/api/v1/queue/{show_id}/draw"
    async with live_server.client() as http:
        draw: dict[str, Any] = (await http.get(href)).json()
    assert draw["status"] == "COMMITTED"
    assert "seed" not in draw
    await assert_no_serious_violations(page, axe_source, "pre-queue entry")
    await page.screenshot(path=str(screenshots / "queue-prequeue-entry.png"))


PAUSED_ETA = {"en": "none while the queue is paused", "hi": "कतार रुकी होने तक कोई अनुमान नहीं"}


@pytest.mark.parametrize("language", ["en", "hi"])
async def test_the_wait_is_the_rooms_estimate_and_none_while_paused(
    live_server: LiveServer, open_page: OpenPage, language: str,
) -> None:
    """A paused room promises no wait (the page says why, in its language); once it lets fans
    in slowly, the page shows the room's own estimate: 40 fans ahead at 2 a minute is about
    20 minutes, never "less than a minute"."""
    show_id = await live_server.create_show()
    await live_server.put_room(show_id, paused=True, releaseRatePerMinute=2)
    await live_server.join_fans(show_id, 40)
    page = await open_page(viewport=DESKTOP)
    await page.goto(queue_url(live_server, show_id, f"?lang={language}"))
    await wait_for_state(page, "paused")
    eta = page.locator("#queue-eta")
    await page.wait_for_function(
        "want => document.getElementById('queue-eta').textContent.includes(want)",
        arg=PAUSED_ETA[language], timeout=15_000)
    await live_server.patch_room(show_id, paused=False)
    await wait_for_state(page, "waiting", timeout_ms=20_000)
    await page.wait_for_function(
        "gone => !document.getElementById('queue-eta').textContent.includes(gone)",
        arg=PAUSED_ETA[language], timeout=15_000)
    text = await eta.text_content() or ""
    digits = "".join(ch for ch in text if ch.isdigit() or ch in "०१२३४५६७८९")
    minutes = int(digits.translate(str.maketrans("०१२३४५६७८९", "0123456789")))
    assert 15 <= minutes <= 25, text
