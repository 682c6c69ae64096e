"""Without JavaScript, after the queue: "best available N seats" is a form that locks them and
goes to a checkout form, which goes on to the payment page; no stale "Loading…" text. English
and Hindi, both sizes, no serious axe violation, screenshots saved."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.browser.booking_flow import booking_status
from tests.browser.conftest import DESKTOP, PHONE, LiveServer, OpenPage, wait_until
from tests.browser.seat_support import create_hall_show, seat_states
from tests.browser.test_queue_page import assert_no_serious_violations

SIZES = {"desktop": DESKTOP, "phone": PHONE}


async def shoot(page: Any, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def axe_as_rendered_without_script(open_page: OpenPage, page: Any, axe_source: str,
                                        where: str) -> None:
    """axe-core needs JavaScript: run it on the page's HTML as the script-less browser shows it
    (``<noscript>`` content in, module scripts out) in a second page at the same address."""
    html = await page.content()
    html = re.sub(r"<script\b[^>]*\btype=\"module\"[^>]*></script>", "", html)
    html = html.replace("<noscript>", "<div data-noscript>").replace("</noscript>", "</div>")
    viewport = page.viewport_size
    checker = await open_page(viewport=viewport)
    await checker.route(page.url, lambda route: route.fulfill(body=html,
                                                              content_type="text/html"))
    await checker.goto(page.url)
    await assert_no_serious_violations(checker, axe_source, where)


async def no_script_page(open_page: OpenPage, server: LiveServer, show_id: str,
                         token: str | None, *, viewport: dict[str, int],
                         language: str = "en-IN") -> Any:
    """A browser with JavaScript off holding the access cookie the queue page sets."""
    page = await open_page(viewport=viewport, language=language, javascript=False)
    if token is not None:
        await page.context.add_cookies([{
            "name": "access_token", "value": token, "url": f"{server.base_url}/shows/{show_id}",
        }])
    return page


async def test_without_javascript_a_fan_holds_the_best_seats_and_pays(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """The seat page offers "best available N seats" and shows no "Loading the seat map…";
    two seats side by side are held, the checkout form lists them and goes to the payment
    page; paying confirms a booking of exactly those seats."""
    show_id = await create_hall_show(live_server)
    for size, viewport in SIZES.items():
        for language in ("en-IN", "hi-IN"):
            token = access_token(show_id)
            page = await no_script_page(open_page, live_server, show_id, token,
                                        viewport=viewport, language=language)
            await page.goto(f"{live_server.base_url}/shows/{show_id}/seats")
            body = await page.locator("body").inner_text()
            assert "Loading the seat map" not in body
            assert "लोड हो रहा" not in body
            assert "needs JavaScript" not in body
            count = page.locator("#nojs-count")
            assert await count.is_visible()
            await axe_as_rendered_without_script(open_page, page, axe_source,
                                                f"nojs seats {size} {language}")
            await shoot(page, screenshots, f"nojs-seats-{size}-{language}")

            await count.select_option("2")
            await page.locator("form.nojs-form button[type=submit]").click()
            await page.wait_for_url(f"**/shows/{show_id}/checkout?*")
            query = parse_qs(urlsplit(page.url).query)
            seats = query["seats"][0].split(",")
            assert len(seats) == 2
            assert seats[0][0] == seats[1][0]  # one row, side by side
            assert abs(int(seats[0][1:]) - int(seats[1][1:])) == 1
            states = await seat_states(live_server, show_id, access_token(show_id))
            assert {states[seat] for seat in seats} == {"LOCKED"}
            text = await page.locator("body").inner_text()
            assert all(seat in text for seat in seats)
            await axe_as_rendered_without_script(open_page, page, axe_source,
                                                f"nojs checkout {size} {language}")
            await shoot(page, screenshots, f"nojs-checkout-{size}-{language}")

            # A wrong e-mail: the form again with the error, nothing paid.
            await page.locator("#nojs-email").fill("not-an-email")
            await page.locator("form.nojs-form button[type=submit]").click()
            assert await page.locator("#nojs-email-error").is_visible()
            await page.locator("#nojs-email").fill("ray@example.in")
            await page.locator("form.nojs-form button[type=submit]").click()
            await page.wait_for_url("**/sandbox/pay/**")
            await page.locator("button[value=SUCCESS]").click()
            await page.wait_for_url("**/bookings/**")
            booking_id = urlsplit(page.url).path.rsplit("/", 1)[1]

            async def confirmed(booking_id: str = booking_id, token: str = token) -> bool:
                found = await booking_status(live_server, booking_id, token)
                return bool(found["status"] == "CONFIRMED")

            assert await wait_until(confirmed, 10)
            found = await booking_status(live_server, booking_id, token)
            assert sorted(seat["id"] for seat in found["seats"]) == sorted(seats)


async def test_without_javascript_or_a_turn_the_form_says_join_the_queue(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path,
) -> None:
    """No access cookie (the turn ended, or no queue yet): the form answers 401 with a link to
    the queue and locks nothing."""
    show_id = await create_hall_show(live_server)
    await live_server.put_room(show_id)
    page = await no_script_page(open_page, live_server, show_id, None, viewport=PHONE)
    await page.goto(f"{live_server.base_url}/shows/{show_id}/seats")
    async with page.expect_response(f"**/shows/{show_id}/seats/best") as answer:
        await page.locator("form.nojs-form button[type=submit]").click()
    assert (await answer.value).status == 401
    link = page.get_by_role("link", name="Join the queue again")
    assert await link.get_attribute("href") == f"/shows/{show_id}/queue"
    await axe_as_rendered_without_script(open_page, page, axe_source, "nojs no turn")
    await shoot(page, screenshots, "nojs-no-turn-phone")
