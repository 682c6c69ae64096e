"""The whole hall on a phone, beside the one-row view: zoomed to fit, pinch-zoomed and panned,
zoom buttons, seats picked by touch and keyboard, in English and Hindi, no serious axe
violation; on a wide screen the hall is shown as it is, without the switch."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, LiveServer, OpenPage
from tests.browser.seat_support import (
    create_hall_show,
    focused_seat,
    open_admitted,
    seat_status,
    seats_url,
    wait_for_state,
)
from tests.browser.test_queue_page import assert_no_serious_violations


async def zoom_of(page: Any) -> float:
    value = await page.locator("#seat-grid").evaluate("el => Number(el.style.zoom || 1)")
    return float(value)


async def frame_fits(page: Any) -> bool:
    fits: bool = await page.locator(".grid-scroll").evaluate(
        "el => el.scrollWidth <= el.clientWidth + 1")
    return fits


@pytest.fixture
async def touch_page(browser: Any) -> AsyncIterator[Callable[..., Any]]:
    """A phone-sized page with a touch screen (for a real two-finger pinch over CDP)."""
    contexts: list[Any] = []

    async def open_one(server: LiveServer, show_id: str, token: str) -> Any:
        context = await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True,
                                            locale="en-IN", bypass_csp=True,
                                            reduced_motion="reduce")
        contexts.append(context)
        await context.add_init_script(
            f"sessionStorage.setItem({json.dumps(f'access_token:{show_id}')}, "
            f"{json.dumps(token)});")
        page = await context.new_page()
        await page.goto(seats_url(server, show_id))
        await wait_for_state(page, "seats", "ready")
        return page

    yield open_one
    for context in contexts:
        await context.close()


async def test_on_a_phone_the_whole_hall_fits_zooms_and_takes_picks(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """"Whole hall" shows every row, fitted to the screen with no sideways page scroll; the
    zoom buttons zoom in (the frame then pans) and back to fit; a seat is picked by click and by
    keyboard in the hall; "One row" brings the row view back. Both languages."""
    show_id = await create_hall_show(live_server)
    for language, names in (("en-IN", ("Whole hall", "One row", "Zoom in", "Fit")),
                            ("hi-IN", ("पूरा हॉल", "एक पंक्ति", "ज़ूम इन", "पूरा देखें"))):
        hall, row, zoom_in, fit = names
        page = await open_admitted(open_page, live_server, show_id, access_token(show_id),
                                   viewport=PHONE, language=language)
        assert await page.locator(".seat-row:visible").count() == 1
        await page.get_by_role("button", name=hall, exact=True).click()
        assert await page.get_by_role("button", name=hall, exact=True).get_attribute(
            "aria-pressed") == "true"
        assert await page.locator(".seat-row:visible").count() == 8
        await page.wait_for_function(
            "() => { const f = document.querySelector('.grid-scroll');"
            " return f.scrollWidth <= f.clientWidth + 1; }", timeout=5000)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        fitted = await zoom_of(page)
        assert fitted < 1
        await assert_no_serious_violations(page, axe_source, f"hall fit {language}")
        await page.screenshot(path=str(screenshots / f"seats-hall-fit-phone-{language}.png"))

        await page.get_by_role("button", name=zoom_in, exact=True).click()
        await page.get_by_role("button", name=zoom_in, exact=True).click()
        assert await zoom_of(page) > fitted * 1.5
        assert not await frame_fits(page)  # zoomed in: the frame pans
        await page.locator("#seat-H5").click()
        assert await seat_status(page, "H5") == "SELECTED"
        await page.keyboard.press("ArrowRight")
        assert await focused_seat(page) == "H6"
        await page.keyboard.press("Enter")
        assert await seat_status(page, "H6") == "SELECTED"
        await page.locator("#seat-H6").wait_for(state="visible", timeout=5000)
        await assert_no_serious_violations(page, axe_source, f"hall zoomed {language}")
        await page.screenshot(path=str(screenshots / f"seats-hall-zoomed-phone-{language}.png"))

        await page.get_by_role("button", name=fit, exact=True).click()
        assert abs(await zoom_of(page) - fitted) < 0.01
        await page.get_by_role("button", name=row, exact=True).click()
        assert await page.locator(".seat-row:visible").count() == 1
        assert await zoom_of(page) == 1


async def test_a_two_finger_pinch_zooms_the_hall(
    live_server: LiveServer, touch_page: Callable[..., Any], access_token: Callable[..., str],
) -> None:
    """Two touch points moving apart over the hall zoom it in (a real pinch sent to Chromium's
    touch input); moving together zoom it back out, never below the fit."""
    show_id = await create_hall_show(live_server)
    page = await touch_page(live_server, show_id, access_token(show_id))
    await page.get_by_role("button", name="Whole hall", exact=True).tap()
    fitted = await zoom_of(page)
    await page.locator(".grid-scroll").evaluate("el => el.scrollIntoView({block: 'center'})")
    box = await page.locator(".grid-scroll").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = await page.context.new_cdp_session(page)

    async def touch(kind: str, spread: float) -> None:
        points = [] if kind == "touchEnd" else [
            {"x": cx - spread, "y": cy, "id": 1}, {"x": cx + spread, "y": cy, "id": 2}]
        await cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    await touch("touchStart", 30)
    for spread in range(40, 130, 10):
        await touch("touchMove", spread)
    await touch("touchEnd", 0)
    zoomed = await zoom_of(page)
    assert zoomed > fitted * 1.8, (fitted, zoomed)

    await touch("touchStart", 120)
    for spread in range(110, 0, -10):
        await touch("touchMove", spread)
    await touch("touchEnd", 0)
    assert abs(await zoom_of(page) - fitted) < 0.01


async def test_on_a_wide_screen_the_hall_shows_without_the_switch(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
) -> None:
    """At 1280 px every row shows at full size and neither the switch nor the zoom is offered."""
    show_id = await create_hall_show(live_server)
    page = await open_admitted(open_page, live_server, show_id, access_token(show_id),
                               viewport=DESKTOP)
    assert await page.locator(".seat-row:visible").count() == 8
    assert not await page.locator(".view-switch").is_visible()
    assert not await page.locator("#zoom-controls").is_visible()
    assert await zoom_of(page) == 1
