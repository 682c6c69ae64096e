"""The queue page's explanations in headless Chromium: how the queue orders and keeps places,
the countdown to the sale, leaving only after confirming (with and without JavaScript), times
in the theater's zone whatever the browser's, and a live region that never names another
number than the screen."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from admitone.gateway import formats, i18n
from tests.browser.conftest import DESKTOP, PHONE, LiveServer, OpenPage, wait_until
from tests.browser.test_queue_page import (
    assert_no_serious_violations,
    queue_url,
    shown_position,
    state_of,
    wait_for_state,
)

PAGE_TIMEOUT_MS = 15_000
SIZES = (("desktop", DESKTOP), ("phone", PHONE))
LANGUAGES = ("en-IN", "hi-IN")
# Every change of the live region or of the shown number, with both texts at that moment.
RECORD_LIVE_REGION = """() => {
  window.__seen = [];
  const region = document.getElementById("queue-announcer");
  const number = document.getElementById("queue-position");
  const record = () => window.__seen.push({ said: region.textContent, shown: number.textContent });
  const options = { childList: true, characterData: true, subtree: true };
  new MutationObserver(record).observe(region, options);
  new MutationObserver(record).observe(number, options);
}"""


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


async def _total(server: LiveServer, show_id: str) -> int:
    total: int = (await server.progress(show_id))["totalInQueue"]
    return total


async def _shoot(page: Any, screenshots: Path, name: str) -> None:
    """Screenshots at both sizes, none scrolling sideways."""
    for size, viewport in SIZES:
        await page.set_viewport_size(viewport)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name}-{size} scrolls sideways by {overflow}px"
        await page.screenshot(path=str(screenshots / f"{name}-{size}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def test_the_live_region_never_names_another_number_than_the_screen(
    live_server: LiveServer, open_page: OpenPage
) -> None:
    """Whenever the shown position changes, the live region either is quiet or names that same
    position: it never lags behind the number on screen."""
    show_id = await live_server.create_show("Announce")
    await live_server.put_room(show_id, releaseRatePerMinute=30)
    await live_server.join_fans(show_id, 12)
    page = await open_page(viewport=DESKTOP)
    await page.add_init_script(
        f"document.addEventListener('DOMContentLoaded', {RECORD_LIVE_REGION})")
    await page.goto(queue_url(live_server, show_id))
    await wait_for_state(page, "waiting")
    await page.wait_for_timeout(12_000)
    seen: list[dict[str, str]] = await page.evaluate("window.__seen")
    numbers = {_digits(entry["shown"]) for entry in seen}
    assert len(numbers) >= 3, seen  # the queue moved while we watched
    assert any("number" in entry["said"] for entry in seen), seen
    for entry in seen:
        if "number" in entry["said"]:
            assert _digits(entry["said"].split(".")[0]) == _digits(entry["shown"]), seen


async def test_a_fifo_queue_explains_its_order_grace_and_turn_in_both_languages(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path
) -> None:
    """The waiting page says places go by arrival, how long a fan may be away (the room's
    grace) and how long the turn lasts (its session), in English and Hindi."""
    show_id = await live_server.create_show("Rules")
    await live_server.put_room(show_id, releaseRatePerMinute=1, abandonGraceSeconds=90,
                               sessionSeconds=480)
    await live_server.join_fans(show_id, 3)
    expected = {
        "en-IN": ("order of arrival", "90 seconds", "8 minutes"),
        "hi-IN": ("आने के क्रम", "90 सेकंड", "8 मिनट"),
    }
    for language in LANGUAGES:
        page = await open_page(language=language)
        await page.goto(queue_url(live_server, show_id))
        await wait_for_state(page, "waiting")
        rules = page.locator("#queue-rules")
        await rules.wait_for()
        text = await rules.text_content() or ""
        for words in expected[language]:
            assert words in text, text
        await assert_no_serious_violations(page, axe_source, f"rules {language}")
        await _shoot(page, screenshots, f"queue-rules-{language[:2]}")
        await page.close()


async def test_the_pre_queue_counts_down_to_the_sale_with_and_without_javascript(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path
) -> None:
    """Before the sale the page counts down to startsAt (a live timer with JS, the time left
    at render without), beside the start time in the theater's zone."""
    show_id = await live_server.create_show("Countdown")
    starts_at = datetime.now(UTC) + timedelta(hours=2)
    await live_server.put_room(show_id, releaseRatePerMinute=60, queueMode="RANDOM_PREQUEUE",
                               startsAt=starts_at.isoformat())
    for language in LANGUAGES:
        page = await open_page(language=language)
        await page.goto(queue_url(live_server, show_id))
        await wait_for_state(page, "prequeue")
        timer = page.get_by_role("timer")
        await timer.wait_for()
        first = await timer.text_content() or ""
        assert re.fullmatch(r"01:59:\d\d", first), first
        await page.wait_for_timeout(2_100)
        assert (await timer.text_content() or "") != first  # it ticks
        assert formats.clock(i18n.negotiate(language), starts_at, "UTC") in (
            await page.locator("#queue-notice-text").text_content() or "")
        await assert_no_serious_violations(page, axe_source, f"prequeue {language}")
        await _shoot(page, screenshots, f"queue-countdown-{language[:2]}")
        await page.close()
    page = await open_page(javascript=False)
    await page.goto(queue_url(live_server, show_id))
    await page.get_by_role("button", name="Join the queue").click()
    await page.wait_for_url(f"**/shows/{show_id}/queue")
    assert await state_of(page) == "prequeue"
    assert re.fullmatch(r"01:59:\d\d", await page.get_by_role("timer").text_content() or "")


async def test_leaving_asks_first_in_a_dialog_and_staying_keeps_the_place(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path
) -> None:
    """"Leave the queue" opens a dialog naming the place at stake; "Stay" (or Escape) closes it
    and the place is kept; "Yes, leave" leaves."""
    show_id = await live_server.create_show("Dialog")
    await live_server.put_room(show_id, releaseRatePerMinute=1)
    await live_server.join_fans(show_id, 4)
    for language in LANGUAGES:
        page = await open_page(language=language)
        await page.goto(queue_url(live_server, show_id))
        await wait_for_state(page, "waiting")
        await page.locator("#queue-leave").click()
        dialog = page.locator("#queue-leave-dialog")
        await dialog.wait_for()
        assert await page.get_by_role("dialog").count() == 1
        position = await shown_position(page)
        assert str(position) in (await dialog.text_content() or "")
        await assert_no_serious_violations(page, axe_source, f"dialog {language}")
        await _shoot(page, screenshots, f"queue-leave-dialog-{language[:2]}")
        await page.locator("#queue-leave-stay").click()
        await dialog.wait_for(state="hidden")
        await page.locator("#queue-leave").click()
        await dialog.wait_for()
        await page.keyboard.press("Escape")
        await dialog.wait_for(state="hidden")
        assert await state_of(page) == "waiting"
        await page.close()
    assert await _total(live_server, show_id) == 6  # both fans still hold their places
    page = await open_page()
    await page.goto(queue_url(live_server, show_id))
    await wait_for_state(page, "waiting")
    await page.locator("#queue-leave").click()
    await page.get_by_role("button", name="Yes, leave the queue").click()
    await wait_for_state(page, "left")
    assert await wait_until(lambda: _total_is(live_server, show_id, 6), timeout_seconds=5)


async def _total_is(server: LiveServer, show_id: str, total: int) -> bool:
    return await _total(server, show_id) == total


async def test_without_javascript_leaving_goes_through_a_confirm_page(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path
) -> None:
    """Without JavaScript "Leave the queue" shows a page asking first (a POST form that
    confirms, a link that stays); staying keeps the place, confirming leaves."""
    show_id = await live_server.create_show("Confirm")
    await live_server.put_room(show_id, releaseRatePerMinute=1)
    await live_server.join_fans(show_id, 2)
    for language, yes, stay in (("en-IN", "Yes, leave the queue", "Stay in the queue"),
                                ("hi-IN", "हाँ, कतार छोड़ें", "कतार में रहें")):
        page = await open_page(javascript=False, language=language)
        await page.goto(queue_url(live_server, show_id))
        await page.locator("#queue-join").click()
        await page.wait_for_url(f"**/shows/{show_id}/queue*")
        assert await state_of(page) == "waiting"
        position = await shown_position(page)
        await page.locator("#queue-leave").click()
        assert await state_of(page) == "confirm_leave"
        assert str(position) in (await page.locator("#queue-confirm-leave").text_content() or "")
        form = page.locator("form.js-leave-confirm-form")
        assert await form.get_attribute("method") == "post"
        await _axe_on_html(live_server, open_page, await page.content(), axe_source,
                           f"confirm {language}")
        await _shoot(page, screenshots, f"queue-leave-confirm-{language[:2]}")
        await page.get_by_role("link", name=stay).click()
        await page.wait_for_url(f"**/shows/{show_id}/queue*")
        assert await state_of(page) == "waiting"
        assert await shown_position(page) == position  # the place was kept
        await page.locator("#queue-leave").click()
        before = await _total(live_server, show_id)
        await page.get_by_role("button", name=yes).click()
        assert await state_of(page) == "left"
        left = before - 1
        assert await wait_until(lambda: _total_is(live_server, show_id, left),  # noqa: B023 - awaited here
                                timeout_seconds=5)
        assert "queue_token" not in {c["name"] for c in await page.context.cookies()}
        await page.close()


async def _axe_on_html(server: LiveServer, open_page: OpenPage, html: str, axe_source: str,
                       where: str) -> None:
    """axe needs scripts: check the HTML a script-less page got in a page that runs them."""
    page = await open_page()
    url = f"{server.base_url}/axe-check"
    await page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    await page.goto(url)
    await assert_no_serious_violations(page, axe_source, where)
    await page.close()


async def test_the_opening_time_is_the_theaters_whatever_the_browsers_zone(
    live_server: LiveServer, browser: Any
) -> None:
    """A browser in New York sees the queue's opening time in the theater's zone, named, just
    as the server prints it (the script formats it from the 425 answer)."""
    show_id = await live_server.create_show("Opening")
    opens_at = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    await live_server.put_room(show_id, releaseRatePerMinute=60, opensAt=opens_at.isoformat())
    context = await browser.new_context(timezone_id="America/New_York", locale="en-US")
    try:
        page = await context.new_page()
        await page.goto(queue_url(live_server, show_id))
        await wait_for_state(page, "not_open")
        await page.wait_for_function(
            "document.getElementById('queue-retry').textContent.trim() !== ''",
            timeout=PAGE_TIMEOUT_MS)  # the script's join was answered (425) and is retried
        notice = await page.locator("#queue-notice-text").text_content() or ""
        expected = formats.date_time(i18n.negotiate("en-US"), opens_at, "UTC")
        assert expected in notice, notice
        assert "UTC" in notice
        assert re.fullmatch(r"0?2:5\d:\d\d", await page.get_by_role("timer").text_content() or "")
    finally:
        await context.close()
