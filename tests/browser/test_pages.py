"""Browse, confirmation (and the offline ticket), my booking and the help pages in headless
Chromium against a real server: a fan finds a show, sees the ticket of a paid booking, opens it
with the network cut off, and cancels only after seeing the refund."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import DESKTOP, PHONE, LiveServer, OpenPage
from tests.browser.test_queue_page import assert_no_serious_violations

PAGE_TIMEOUT_MS = 15_000
EMAIL = "fan.pages@example.com"


async def book(server: LiveServer, show_id: str, token: str, *, seats: list[str],
               outcome: str | None = "SUCCESS") -> dict[str, Any]:
    """Lock, check out and (unless ``outcome`` is None) pay through the sandbox; the booking
    JSON as its owner sees it."""
    async with server.client(Authorization=f"Bearer {token}") as http:
        lock = await http.post("/api/v1/bookings/lock", json={"showId": show_id,
                                                              "seatIds": seats})
        assert lock.status_code == 200, lock.text
        checkout = await http.post(
            "/api/v1/bookings", json={"lockId": lock.json()["lockId"], "paymentMethod": "UPI",
                                      "email": EMAIL},
            headers={"Idempotency-Key": uuid.uuid4().hex})
        assert checkout.status_code == 201, checkout.text
        booking_id = checkout.json()["bookingId"]
        if outcome is not None:
            await pay(server, checkout.json()["paymentId"], outcome, token)
        found = await http.get(f"/api/v1/bookings/{booking_id}")
        assert found.status_code == 200, found.text
        booking: dict[str, Any] = found.json()
        booking["paymentId"] = checkout.json()["paymentId"]
        return booking


async def pay(server: LiveServer, payment_id: str, outcome: str, token: str) -> None:
    """Finish the sandbox charge as the fan who booked (its access token)."""
    async with server.client(Authorization=f"Bearer {token}") as http:
        done = await http.post(f"/sandbox/payments/{payment_id}/complete",
                               json={"outcome": outcome})
    assert done.status_code == 200, done.text


async def status_of(server: LiveServer, booking: dict[str, Any], token: str) -> str:
    async with server.client(Authorization=f"Bearer {token}") as http:
        found = await http.get(f"/api/v1/bookings/{booking['id']}")
    status: str = found.json()["status"]
    return status


async def open_with_token(open_page: OpenPage, show_id: str, token: str, **options: Any) -> Any:
    """A page whose tab holds the show's access token where the queue page leaves it."""
    page = await open_page(**options)
    await page.context.add_init_script(
        f"window.sessionStorage.setItem({json.dumps(f'access_token:{show_id}')}, "
        f"{json.dumps(token)});")
    return page


async def wait_for_state(page: Any, root_id: str, *states: str,
                         timeout_ms: int = PAGE_TIMEOUT_MS) -> str:
    await page.wait_for_function(
        "([id, states]) => states.includes(document.getElementById(id)?.dataset.state)",
        arg=[root_id, list(states)], timeout=timeout_ms)
    state: str = await page.locator(f"#{root_id}").get_attribute("data-state")
    return state


async def qr_is_drawn(page: Any) -> bool:
    drawn: bool = await page.evaluate(
        "(() => { const img = document.getElementById('ticket-qr');"
        " return !img.hidden && img.complete && img.naturalWidth > 100; })()")
    return drawn


# Browse --------------------------------------------------------------------------------------


async def test_browse_search_movie_and_show_lead_to_the_queue(
    live_server: LiveServer, open_page: OpenPage
) -> None:
    """A fan searches a title prefix on any day, opens the movie, and its show (with a waiting
    room) takes them to the show's queue page."""
    title = f"Kaagaz Ke Phool {uuid.uuid4().hex[:4]}"
    show_id = await live_server.create_show(title)
    await live_server.put_room(show_id)
    page = await open_page()
    await page.goto(f"{live_server.base_url}/")
    await page.get_by_label("Search by title").fill("kaag")
    await page.get_by_label("Day", exact=True).select_option("any")
    await page.get_by_role("button", name="Show movies").click()
    await page.get_by_role("link", name=title).click()
    await page.wait_for_url(re.compile(r"/movies/"))
    assert await page.get_by_role("heading", level=1).text_content() == title
    assert await page.get_by_role("heading", name="Regal Cinema").count() == 1
    await page.locator(f'a[href="/shows/{show_id}/queue"]').click()
    await page.wait_for_url(f"**/shows/{show_id}/queue")


async def test_browse_works_without_javascript(live_server: LiveServer,
                                               open_page: OpenPage) -> None:
    """With JavaScript off the search form and links still lead from search to the show."""
    title = f"Pyaasa {uuid.uuid4().hex[:4]}"
    show_id = await live_server.create_show(title)
    page = await open_page(javascript=False, language="hi-IN")
    await page.goto(f"{live_server.base_url}/?date=any")
    await page.get_by_label("नाम से खोजें").fill("pyaas")
    await page.get_by_role("button", name="फ़िल्में दिखाएँ").click()
    await page.get_by_role("link", name=title).click()
    await page.wait_for_url(re.compile(r"/movies/"))
    assert await page.locator(f'a[href^="/shows/{show_id}/"]').count() == 1


# Confirmation and the offline ticket -------------------------------------------------------


async def test_confirmation_shows_the_ticket_and_opens_offline(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    screenshots: Path,
) -> None:
    """After paying, the confirmation page shows reference, seats and QR code; with the
    network cut off, reloading the page still shows the ticket (service worker + IndexedDB)."""
    show_id = await live_server.create_show("Mughal-e-Azam")
    token = access_token(show_id)
    booking = await book(live_server, show_id, token, seats=["B3", "B4"])
    page = await open_with_token(open_page, show_id, token)
    await page.goto(f"{live_server.base_url}/bookings/{booking['id']}")
    await wait_for_state(page, "booking", "confirmed")
    assert await page.locator("#ticket-reference").text_content() == booking["reference"]
    assert await page.locator("#ticket-seats").text_content() == "B3 and B4"
    assert await page.locator("#ticket-amount").text_content() == "₹500"
    await page.wait_for_function("() => !document.getElementById('ticket-qr').hidden")
    assert await qr_is_drawn(page)
    await page.locator("#ticket-offline-ready").wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
    await page.screenshot(path=str(screenshots / "pages-ticket-desktop-en.png"), full_page=True)

    await page.context.set_offline(True)
    try:
        reloaded = await page.reload()
        assert reloaded is not None
        assert reloaded.from_service_worker  # served by the worker: the network is cut
        await wait_for_state(page, "booking", "confirmed")
        assert await page.evaluate("navigator.onLine") is False
        assert await page.locator("#ticket-reference").text_content() == booking["reference"]
        assert await qr_is_drawn(page)
        assert await page.locator("#ticket-offline-note").is_visible()
        await page.screenshot(path=str(screenshots / "pages-ticket-offline-desktop-en.png"),
                              full_page=True)
        await page.goto(f"{live_server.base_url}/tickets")
        await page.get_by_role("link", name=re.compile("Mughal-e-Azam")).wait_for()
    finally:
        await page.context.set_offline(False)


async def test_confirmation_waits_for_a_late_webhook(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """While the payment is not settled the page says it is confirming; when that lasts, it
    says so with what to do; it shows the ticket by itself once the webhook lands."""
    show_id = await live_server.create_show()
    token = access_token(show_id)
    booking = await book(live_server, show_id, token, seats=["A1"], outcome=None)
    page = await open_with_token(open_page, show_id, token, language="hi-IN", viewport=PHONE)
    url = f"{live_server.base_url}/bookings/{booking['id']}"

    async def shorter_waits(route: Any) -> None:
        # The page's own config, with the "still confirming" point at 2 s instead of 30 s.
        response = await route.fetch()
        body = (await response.text()).replace('"pollForMs":30000', '"pollForMs":2000')
        body = body.replace('"slowPollMs":10000', '"slowPollMs":1000')
        await route.fulfill(response=response, body=body)

    await page.route(url, shorter_waits)
    await page.goto(url)
    await wait_for_state(page, "booking", "pending")
    assert await page.get_by_role("heading", name="आपके भुगतान की पुष्टि हो रही है…").is_visible()
    await wait_for_state(page, "booking", "slow")
    assert await page.get_by_role("heading", name="हम आपके भुगतान की पुष्टि कर रहे हैं").is_visible()
    await assert_no_serious_violations(page, axe_source, "payment still confirming")
    await page.screenshot(path=str(screenshots / "pages-payment-pending-phone-hi.png"),
                          full_page=True)
    await pay(live_server, booking["paymentId"], "SUCCESS", token)
    await wait_for_state(page, "booking", "confirmed")
    assert await page.locator("#ticket-reference").text_content() == booking["reference"]


async def test_failed_payment_says_what_to_do(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """A failed payment shows the payment-failed help and a way back to pay again for the held
    seats (checkout, which says so when the hold has run out)."""
    show_id = await live_server.create_show()
    token = access_token(show_id)
    booking = await book(live_server, show_id, token, seats=["A2"], outcome="FAILED")
    page = await open_with_token(open_page, show_id, token, viewport=PHONE)
    await page.goto(f"{live_server.base_url}/bookings/{booking['id']}")
    await wait_for_state(page, "booking", "failed")
    retry = page.get_by_role("link", name="Pay again for these seats")
    assert await retry.get_attribute("href") == f"/shows/{show_id}/checkout"
    await assert_no_serious_violations(page, axe_source, "payment failed")
    await page.screenshot(path=str(screenshots / "pages-payment-failed-phone-en.png"),
                          full_page=True)


async def test_confirmation_without_a_token_points_to_my_booking(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """Another browser (no token for the booking) learns nothing and is sent to "my booking"."""
    show_id = await live_server.create_show()
    booking = await book(live_server, show_id, access_token(show_id), seats=["A3"])
    page = await open_page()
    await page.goto(f"{live_server.base_url}/bookings/{booking['id']}")
    await wait_for_state(page, "booking", "missing")
    assert booking["reference"] not in await page.content()
    assert await page.get_by_role("link", name="Find my booking").first.is_visible()


# My booking ----------------------------------------------------------------------------------


async def test_my_booking_shows_the_refund_before_cancelling(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """Looking a booking up by reference and e-mail shows the refund the policy gives; the
    booking stays confirmed until the fan confirms, then it is cancelled with that refund."""
    show_id = await live_server.create_show("Guide", starts_in=timedelta(hours=12))
    token = access_token(show_id)
    booking = await book(live_server, show_id, token, seats=["A5", "A6"])
    page = await open_page(viewport=PHONE)
    await page.goto(f"{live_server.base_url}/my-booking")
    await page.get_by_role("button", name="Find my booking").click()
    assert await page.locator("#lookup-errors").is_visible()
    assert await page.evaluate("document.activeElement.id") == "lookup-errors"
    await page.get_by_label("Booking reference").fill(booking["reference"].lower())
    await page.get_by_label("E-mail address").fill(EMAIL)
    await page.get_by_role("button", name="Find my booking").click()
    await wait_for_state(page, "my-booking", "found")
    refund = page.locator("#cancel-refund")
    assert await refund.text_content() == "If you cancel now, you get back ₹250 (50% of ₹500)."
    await assert_no_serious_violations(page, axe_source, "my booking found")
    await page.get_by_role("button", name="Cancel booking…").click()
    yes = page.get_by_role("button", name="Yes, cancel and refund ₹250")
    assert await yes.is_visible()
    await assert_no_serious_violations(page, axe_source, "my booking, confirming")
    await page.screenshot(path=str(screenshots / "pages-my-booking-confirm-phone-en.png"),
                          full_page=True)
    assert await status_of(live_server, booking, token) == "CONFIRMED"
    await yes.click()
    await page.locator("#cancel-done").wait_for(state="visible")
    assert "₹250" in (await page.locator("#cancel-done").text_content() or "")
    assert await status_of(live_server, booking, token) == "CANCELLED"
    assert await page.locator("#result-status").text_content() == "Cancelled"


async def test_my_booking_says_when_nothing_matches(live_server: LiveServer,
                                                    open_page: OpenPage) -> None:
    """A reference and e-mail that match nothing get a clear message, in Hindi too."""
    page = await open_page(language="hi-IN")
    await page.goto(f"{live_server.base_url}/my-booking")
    await page.get_by_label("बुकिंग रेफ़रेंस").fill("ZZZZZZZZZZ")
    await page.get_by_label("ई-मेल पता").fill("nobody@example.com")
    await page.get_by_role("button", name="मेरी बुकिंग खोजें").click()
    await page.get_by_text("इस रेफ़रेंस और ई-मेल पते से कोई बुकिंग नहीं मिली").wait_for()


# Accessibility and screenshots ---------------------------------------------------------------


async def test_pages_have_no_serious_accessibility_violations(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """axe-core finds no serious or critical violation on any of these pages, in English and
    Hindi, at desktop and phone sizes; none scrolls sideways on a 390 px phone (screenshots
    are saved for a human to look at)."""
    title = f"Do Bigha Zamin {uuid.uuid4().hex[:4]}"
    show_id = await live_server.create_show(title, starts_in=timedelta(days=3))
    await live_server.put_room(show_id)
    token = access_token(show_id)
    booking = await book(live_server, show_id, token, seats=["A7"])
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        movie_id = (await http.get("/api/v1/movies", params={"q": title})).json()["movies"][0]["id"]
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    pages = [
        ("browse", f"/?date={day}", None),
        ("movie", f"/movies/{movie_id}?date=any", None),
        ("ticket", f"/bookings/{booking['id']}", ("booking", "confirmed")),
        ("tickets", "/tickets", ("tickets", "list", "empty")),
        ("my-booking", "/my-booking", None),
        ("help-lock-expired", f"/help/lock-expired?show={show_id}", None),
        ("not-found", "/movies/no-such-movie", None),
    ]
    for viewport_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for language in ("en-IN", "hi-IN"):
            page = await open_with_token(open_page, show_id, token, viewport=viewport,
                                         language=language)
            for name, path, ready in pages:
                await page.goto(f"{live_server.base_url}{path}")
                if ready:
                    await wait_for_state(page, *ready)
                await assert_no_serious_violations(page, axe_source,
                                                   f"{name} {viewport_name} {language}")
                overflow = await page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"{name} {viewport_name} scrolls sideways by {overflow}px"
                shot = f"pages-{name}-{viewport_name}-{language[:2]}.png"
                await page.screenshot(path=str(screenshots / shot), full_page=True)
            await page.close()
