"""Hindi with the site's own Devanagari font (Noto Sans Devanagari, OFL) in a Chromium that
has no Devanagari font of its own, and the browse pages' next-day fallback, in both languages
at both sizes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    OPERATOR,
    PHONE,
    LiveServer,
    OpenPage,
)
from tests.browser.test_queue_page import assert_no_serious_violations

FONT_FAMILY = "Noto Sans Devanagari"  # the name inside the shipped files
FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


@pytest.fixture
async def latin_only_browser(tmp_path: Path) -> AsyncIterator[Any]:
    """A Chromium whose fontconfig knows only DejaVu (Latin, no Devanagari): a device without
    a system Devanagari font."""
    from playwright.async_api import async_playwright

    conf = tmp_path / "fonts.conf"
    conf.write_text(FONTS_CONF.format(cache=tmp_path / "cache"), encoding="utf-8")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            env={**os.environ, "FONTCONFIG_FILE": str(conf)})
        yield launched
        await launched.close()


async def _platform_fonts(page: Any, selector: str) -> list[dict[str, Any]]:
    """The fonts Chromium really drew ``selector``'s text with (DevTools protocol)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument")
    node = await cdp.send("DOM.querySelector", {"nodeId": root["root"]["nodeId"],
                                                "selector": selector})
    fonts: list[dict[str, Any]] = (await cdp.send("CSS.getPlatformFontsForNode",
                                                  {"nodeId": node["nodeId"]}))["fonts"]
    return fonts


async def _open(browser: Any, server: LiveServer, path: str, language: str,
                requested: list[str]) -> Any:
    context = await browser.new_context(viewport=DESKTOP, locale=language,
                                        extra_http_headers={"Accept-Language": language})
    page = await context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(f"{server.base_url}{path}")
    await page.evaluate("document.fonts.ready.then(() => true)")
    return page


async def test_hindi_pages_draw_devanagari_with_the_shipped_font(
    live_server: LiveServer, latin_only_browser: Any, screenshots: Path
) -> None:
    """Without a system Devanagari font, the Hindi page's heading and language switch are drawn
    with the site's Noto Sans Devanagari (loaded as a web font), never boxes."""
    requested: list[str] = []
    page = await _open(latin_only_browser, live_server, "/?lang=hi", "hi-IN", requested)
    assert await page.evaluate(
        "document.fonts.check('16px \"admitone Devanagari\"', 'हिन्दी')")
    loaded = await page.evaluate(
        "[...document.fonts].filter(f => f.family.includes('admitone Devanagari')"
        " && f.status === 'loaded').map(f => f.family + ' ' + f.weight)")
    assert "admitone Devanagari 700" in loaded or "admitone Devanagari 400" in loaded, loaded
    for selector in ("h1", ".lang-switch a[lang='hi']"):
        fonts = await _platform_fonts(page, selector)
        custom = [font for font in fonts if font["isCustomFont"]]
        assert any(font["familyName"] == FONT_FAMILY for font in custom), (selector, fonts)
        assert not any("Lohit" in font["familyName"] for font in fonts), fonts
    assert any("noto-sans-devanagari-" in url for url in requested)
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        await page.screenshot(path=str(screenshots / f"font-browse-hi-{size}.png"))
    await page.context.close()


async def test_english_pages_load_only_the_language_switchs_letters(
    live_server: LiveServer, latin_only_browser: Any, screenshots: Path
) -> None:
    """An English page draws the switch's "हिन्दी" with the 2 KB face of its letters and never
    downloads the full Devanagari font (unicode-range)."""
    requested: list[str] = []
    page = await _open(latin_only_browser, live_server, "/?lang=en", "en-IN", requested)
    fonts = await _platform_fonts(page, ".lang-switch a[lang='hi']")
    assert any(font["isCustomFont"] and font["familyName"] == FONT_FAMILY for font in fonts), fonts
    font_files = [url.rsplit("/", 1)[-1] for url in requested if url.endswith(".woff2")]
    assert font_files == ["noto-sans-devanagari-switch-400.woff2"], font_files
    await page.screenshot(path=str(screenshots / "font-browse-en-desktop.png"))
    await page.context.close()


async def test_the_home_page_shows_the_next_day_with_shows_and_says_so(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path
) -> None:
    """A city whose only show is days away: the home page lists it under that day, with a
    notice, in English and Hindi, at both sizes, without serious accessibility violations; the
    movie's page opens on that day, its times in the theater's zone, its city named once."""
    city = f"Nextpur {uuid.uuid4().hex[:5]}"
    show_id = await _show_in(live_server, city)
    assert show_id
    for language, words in (("en-IN", "no shows today"), ("hi-IN", "आज कोई शो नहीं है")):
        page = await open_page(language=language)
        await page.goto(f"{live_server.base_url}/?city={city}")
        notice = page.locator("#day-notice")
        await notice.wait_for()
        assert words in (await notice.text_content() or "")
        assert await page.locator(".movie-card").count() == 1
        await assert_no_serious_violations(page, axe_source, f"browse {language}")
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(viewport)
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0
            await page.screenshot(path=str(screenshots / f"browse-next-day-{language[:2]}-{size}.png"))
        day = await page.locator("#filter-date option:checked").text_content() or ""
        await page.locator(".movie-card__link").click()
        # The link carries the day shown, so the movie's page opens on it (no notice needed).
        await page.get_by_role("heading", level=2, name=day, exact=False).wait_for()
        assert "IST" in (await page.locator(".show-time__time").first.text_content() or "")
        assert await page.locator(".theater__address").text_content() == f"1 Marine Lines, {city}"
        await assert_no_serious_violations(page, axe_source, f"movie {language}")
        await page.screenshot(path=str(screenshots / f"movie-next-day-{language[:2]}.png"))
        await page.close()


async def _show_in(server: LiveServer, city: str) -> str:
    """A show three days out in a theater of ``city`` (in India's zone)."""
    async with server.client(**OPERATOR) as http:
        movie = await http.post("/api/v1/admin/movies", json={
            "title": f"Next Day {uuid.uuid4().hex[:4]}", "durationMinutes": 120,
            "language": "Hindi", "genre": "Drama"})
        theater = await http.post("/api/v1/admin/theaters", json={
            "name": "Liberty", "city": city, "address": f"1 Marine Lines, {city}",
            "timezone": "Asia/Kolkata"})
        screen = await http.post(f"/api/v1/admin/theaters/{theater.json()['id']}/screens", json={
            "name": "Screen 1", "layout": {"rows": [{"name": "A", "seats": 5,
                                                     "seatType": "REGULAR",
                                                     "priceMultiplier": "1.00"}]}})
        when = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
        show = await http.post("/api/v1/admin/shows", json={
            "movieId": movie.json()["id"], "screenId": screen.json()["id"],
            "showTime": when.isoformat(), "basePrice": "250.00", "currency": "INR"})
        assert show.status_code == 201, show.text
    show_id: str = show.json()["id"]
    return show_id
