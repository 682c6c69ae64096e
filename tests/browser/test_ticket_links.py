"""The ticket after payment: the e-mailed link opens the ticket page in any browser, the page
says "e-mailed" only when the e-mail went out, and "Manage or cancel booking" opens the booking
this browser holds, in English and Hindi, at both sizes, with no serious axe violation."""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from admitone.db.migrate import migrate
from admitone.runtime import Services
from tests.browser.booking_flow import open_with_token, paid_booking
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    LiveServer,
    OpenPage,
    start_server,
    stop_server,
    wait_until,
)
from tests.browser.seat_support import create_hall_show, wait_for_state
from tests.browser.test_queue_page import assert_no_serious_violations
from tests.integration.test_outbox import SmtpSink

SIZES = {"desktop": DESKTOP, "phone": PHONE}
CONFIRM_MS = 20_000


async def shoot(page: Any, folder: Path, name: str) -> None:
    await page.wait_for_timeout(150)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def test_without_a_mail_server_the_ticket_page_says_where_the_ticket_is(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    axe_source: str, screenshots: Path,
) -> None:
    """No SMTP is set for the test server: the confirmation never claims the ticket was
    e-mailed, says where to find it (with the reference), and "Manage or cancel booking" opens
    the booking itself, not an empty lookup form."""
    show_id = await create_hall_show(live_server)
    for number, (size, viewport) in enumerate(SIZES.items()):
        for language in ("en-IN", "hi-IN"):
            token = access_token(show_id)
            seat = f"{'AB'[number]}{1 + (language == 'hi-IN')}"
            checkout = await paid_booking(live_server, show_id, token, [seat])
            page = await open_with_token(open_page, live_server, show_id, token,
                                         f"/bookings/{checkout['bookingId']}",
                                         viewport=viewport, language=language)
            await wait_for_state(page, "booking", "confirmed", timeout_ms=CONFIRM_MS)
            reference = (await page.locator("#ticket-reference").text_content() or "").strip()
            note = page.locator("#ticket-email-note")
            assert await note.get_attribute("data-email-state") == "off"
            text = await note.text_content() or ""
            assert reference in text
            banner = await page.locator(".confirmed-banner").text_content() or ""
            if language == "en-IN":
                assert "e-mailed" not in banner
                assert "no e-mail is sent" in text
            else:
                assert "ई-मेल भी कर दिया" not in banner
                assert "कोई ई-मेल नहीं भेजा जाता" in text
            await assert_no_serious_violations(page, axe_source, f"ticket {size} {language}")
            await shoot(page, screenshots, f"ticket-no-mail-{size}-{language}")

            manage = page.locator("#ticket-manage")
            await manage.click()
            await page.wait_for_url("**/my-booking?booking=*")
            await wait_for_state(page, "my-booking", "found")
            shown = (await page.locator("#result-reference").text_content() or "").strip()
            assert shown == reference
            await assert_no_serious_violations(page, axe_source, f"manage {size} {language}")
            await shoot(page, screenshots, f"manage-opened-{size}-{language}")


async def _ticket_link(services: Services, booking_id: str) -> str:
    body = ""

    async def recorded() -> bool:
        nonlocal body
        body = await services.pool.fetchval(
            "SELECT n.body FROM notifications n JOIN outbox o ON o.id = n.outbox_id"
            " WHERE o.topic = 'booking.confirmed' AND o.payload->>'bookingId' = $1",
            booking_id) or ""
        return bool(body)

    assert await wait_until(recorded, 20), "the outbox worker never recorded the e-mail"
    found = re.search(r"(https?://\S+/bookings/\S+)", body)
    assert found is not None, body
    return found.group(1)


async def test_the_emailed_link_opens_the_ticket_page_in_a_fresh_browser(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str],
    services: Services, axe_source: str, screenshots: Path,
) -> None:
    """The e-mail's link is the ticket page with a booking token in its fragment: a browser
    that never held any token opens the ticket (QR code included), the token leaves the
    address bar, and the link is no raw JSON API address."""
    show_id = await create_hall_show(live_server)
    for size, viewport in SIZES.items():
        for language in ("en-IN", "hi-IN"):
            seat = {"desktop": "C", "phone": "D"}[size] + ("1" if language == "en-IN" else "2")
            checkout = await paid_booking(live_server, show_id, access_token(show_id), [seat])
            link = await _ticket_link(services, checkout["bookingId"])
            assert "/api/" not in link
            assert link.startswith(f"{live_server.base_url}/bookings/{checkout['bookingId']}#token=")
            page = await open_page(viewport=viewport, language=language)
            await page.goto(link)
            await wait_for_state(page, "booking", "confirmed", timeout_ms=CONFIRM_MS)
            assert "#" not in page.url
            assert seat in (await page.locator("#ticket-seats").text_content() or "")
            qr = page.locator("#ticket-qr")
            await qr.wait_for(state="visible")
            await assert_no_serious_violations(page, axe_source, f"link {size} {language}")
            await shoot(page, screenshots, f"ticket-from-email-{size}-{language}")


async def test_a_forged_link_token_opens_nothing(
    live_server: LiveServer, open_page: OpenPage,
) -> None:
    """A fragment that is no valid booking token shows "we can't find this booking"."""
    page = await open_page(viewport=PHONE)
    await page.goto(f"{live_server.base_url}/bookings/{uuid.uuid4()}#token=not.a.token")
    await wait_for_state(page, "booking", "missing", timeout_ms=CONFIRM_MS)


@pytest.fixture
async def mailing_server(server_env: dict[str, str], server_urls: tuple[str, str],
                         tmp_path: Path) -> AsyncIterator[tuple[LiveServer, SmtpSink]]:
    """A second server, on a database of its own (so that only its outbox worker sends its
    e-mails), whose mail goes over SMTP to a sink in this test."""
    name = f"admitone_mail_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_urls[0])
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server_urls[0])._replace(path=f"/{name}"))
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    try:
        async with SmtpSink().running() as sink:
            server = await asyncio.to_thread(start_server, {
                **server_env, "ADMITONE_DATABASE_URL": url,
                "ADMITONE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            }, tmp_path / "mail-server.log")
            try:
                yield server, sink
            finally:
                await asyncio.to_thread(stop_server, server)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_with_a_mail_server_the_page_says_e_mailed_once_it_was(
    mailing_server: tuple[LiveServer, SmtpSink], open_page: OpenPage,
    access_token: Callable[..., str], axe_source: str, screenshots: Path,
) -> None:
    """With SMTP set, the confirmation says "e-mailed" once the mail server took the e-mail
    (on its way until then), in both languages; the e-mail reached the sink with the link."""
    server, sink = mailing_server
    show_id = await create_hall_show(server)
    for number, (size, viewport) in enumerate(SIZES.items()):
        for language in ("en-IN", "hi-IN"):
            token = access_token(show_id)
            seat = f"{'EF'[number]}{1 + (language == 'hi-IN')}"
            checkout = await paid_booking(server, show_id, token, [seat])
            page = await open_with_token(open_page, server, show_id, token,
                                         f"/bookings/{checkout['bookingId']}",
                                         viewport=viewport, language=language)
            await wait_for_state(page, "booking", "confirmed", timeout_ms=CONFIRM_MS)
            note = page.locator("#ticket-email-note")
            await page.wait_for_function(
                "() => document.getElementById('ticket-email-note').dataset.emailState"
                " === 'sent'", timeout=CONFIRM_MS)
            text = await note.text_content() or ""
            assert ("e-mailed" if language == "en-IN" else "ई-मेल भी कर दिया") in text
            await assert_no_serious_violations(page, axe_source, f"mailed {size} {language}")
            await shoot(page, screenshots, f"ticket-mailed-{size}-{language}")
    bodies = [bytes(message.get_payload(decode=True)).decode()  # type: ignore[arg-type]
              for message in sink.messages]
    assert any("/bookings/" in body and "#token=" in body for body in bodies)
