"""The API's documentation pages in headless Chromium: Swagger UI renders with every request
off this machine refused, and a problem code's help page reads well in both languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import DESKTOP, PHONE, LiveServer, OpenPage
from tests.browser.test_queue_page import assert_no_serious_violations

PAGE_TIMEOUT_MS = 15_000
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


async def _offline(page: Any) -> list[str]:
    """Refuse every request to another host than this machine; the refused URLs."""
    refused: list[str] = []

    async def only_local(route: Any) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            await route.continue_()
        else:
            refused.append(url)
            await route.abort("internetdisconnected")

    await page.route("**/*", only_local)
    return refused


async def test_swagger_ui_renders_without_the_internet(
    live_server: LiveServer, open_page: OpenPage, screenshots: Path
) -> None:
    """/schema/swagger loads Swagger UI's script and style from this server, so the document
    renders (title, operations, the problem examples) with no route to the internet."""
    page = await open_page(viewport=DESKTOP)
    refused = await _offline(page)
    await page.goto(f"{live_server.base_url}/schema/swagger", wait_until="networkidle")
    title = page.locator(".swagger-ui .info .title")
    await title.wait_for(timeout=PAGE_TIMEOUT_MS)
    assert "admitone" in await title.inner_text()
    assert await page.locator(".opblock").count() > 40
    lock = page.locator(".opblock-post").filter(has_text="/api/v1/bookings/lock").first
    await lock.locator(".opblock-summary").click()
    await page.locator(".responses-table").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    responses = await lock.locator(".responses-table .response-col_status").all_inner_texts()
    assert {"401", "409", "422"} <= {text.strip() for text in responses}
    await lock.locator(".responses-table").first.scroll_into_view_if_needed()
    await page.screenshot(path=str(screenshots / "api-docs-swagger-desktop-en.png"))
    assert refused == []


@pytest.mark.parametrize(("viewport", "language"), [(DESKTOP, "en-IN"), (PHONE, "hi-IN")])
async def test_a_problem_codes_help_page(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path,
    viewport: dict[str, int], language: str,
) -> None:
    """The page a problem's ``type`` names: code, status, what to do, the example, in the
    fan's language around the API's English texts; no serious accessibility violation."""
    page = await open_page(viewport=viewport, language=language)
    await page.goto(f"{live_server.base_url}/help/seat-unavailable")
    assert await page.locator("[data-problem-code]").inner_text() == "SEAT_UNAVAILABLE"
    assert await page.locator("[data-problem-status]").inner_text() == "409"
    assert "alternativeSeats" in await page.locator(".problem__example").inner_text()
    kind = await page.locator(".problem__kind").inner_text()
    assert kind == ("Error reference" if language == "en-IN" else "त्रुटि संदर्भ")
    await assert_no_serious_violations(page, axe_source, f"help page {language}")
    size = "desktop" if viewport == DESKTOP else "phone"
    await page.screenshot(path=str(screenshots / f"api-help-code-{size}-{language[:2]}.png"),
                          full_page=True)
