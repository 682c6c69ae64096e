"""The operator console in headless Chromium against a real server: sign in, set a show up
from a CSV seat layout, open its waiting room, steer a waiting crowd (rate, pause), read the
audit log and release a stuck lock — with screenshots at 1440 x 900 and axe-core checks."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import LiveServer, OpenPage, wait_until
from tests.browser.test_queue_page import assert_no_serious_violations
from tests.conftest import OPERATOR_TOKEN

CONSOLE = {"width": 1440, "height": 900}
LAYOUT_CSV = "row,seat,type,multiplier\n" + "".join(
    f"{row},{seat},{kind},{multiplier}\n"
    for row, kind, multiplier in (("A", "REGULAR", "1.00"), ("B", "REGULAR", "1.00"),
                                  ("C", "VIP", "1.50"))
    for seat in range(1, 11)
)
CROWD = 150


@pytest.fixture(scope="session")
def server_redis_url(redis_url: str) -> str:
    """Run alone, this module's server shares the suite's Redis database (flushed before each
    test, never during one) instead of the one below it, which may be someone else's. In a
    whole-suite run the package's server already exists and this changes nothing."""
    return redis_url


async def metric(page: Any, name: str) -> int:
    text = await page.locator(f'[data-metric="{name}"]').first.text_content() or ""
    return int(re.sub(r"[^\d]", "", text) or 0)


async def confirm_in_dialog(page: Any) -> None:
    dialog = page.locator("#confirm-dialog")
    await dialog.wait_for(state="visible")
    await dialog.locator("[data-confirm]").click()


async def sign_in(page: Any, base_url: str) -> None:
    await page.goto(f"{base_url}/admin")
    assert page.url.endswith("/admin/login")
    await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
    await page.get_by_label("Your time zone").select_option("Asia/Kolkata")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base_url}/admin")


async def set_up_show(page: Any, server: LiveServer, screenshots: Path, axe_source: str) -> str:
    """Movie, theater, screen from CSV (a bad file first), show, waiting room: the show id."""
    base_url = server.base_url
    title = f"Console Premiere {uuid.uuid4().hex[:4]}"
    await page.get_by_role("link", name="New movie").click()
    await page.get_by_label("Title", exact=True).fill(title)
    await page.get_by_label("Length (minutes)").fill("165")
    await page.get_by_role("textbox", name="Language").fill("Hindi")
    await page.get_by_label("Genre").fill("Drama")
    await page.get_by_role("button", name="Create").click()
    await page.wait_for_url(re.compile(r"/admin/shows/new\?movie="))

    await page.goto(f"{base_url}/admin/theaters/new")
    await page.get_by_label("Name", exact=True).fill("Liberty Cinema")
    await page.get_by_label("City").fill("Mumbai")
    await page.get_by_label("Address").fill("Marine Lines")
    await page.get_by_label("The theater's time zone").select_option("Asia/Kolkata")
    await page.get_by_role("button", name="Create").click()
    await page.wait_for_url(re.compile(r"/admin/screens/new\?theater="))

    await page.get_by_label("Screen name").fill("Screen Gold")
    await page.get_by_label("Seat layout (CSV)").set_input_files(files=[{
        "name": "bad.csv", "mimeType": "text/csv",
        "buffer": b"row,seat,type,multiplier\nA,1,REGULAR,1.00\nA,1,REGULAR,1.00\n"}])
    await page.get_by_role("button", name="Create").click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "Line 3" in (await alert.text_content() or "")
    await page.screenshot(path=str(screenshots / "operator-screen-csv-error.png"), full_page=True)
    await assert_no_serious_violations(page, axe_source, "screen form with a CSV error")
    await page.get_by_label("Screen name").fill("Screen Gold")
    await page.get_by_label("Seat layout (CSV)").set_input_files(files=[{
        "name": "layout.csv", "mimeType": "text/csv", "buffer": LAYOUT_CSV.encode()}])
    await page.get_by_role("button", name="Create").click()
    await page.wait_for_url(re.compile(r"/admin/shows/new\?screen="))

    await page.get_by_label("Movie", exact=True).select_option(label=f"{title} (Hindi)")
    starts = (datetime.now(UTC) + timedelta(days=3)).astimezone().strftime("%Y-%m-%dT19:30")
    await page.get_by_label(re.compile(r"Starts at")).fill(starts)
    await page.get_by_label("Base price").fill("250.00")
    await page.get_by_label("Currency (3 letters)").fill("INR")
    await page.get_by_role("button", name="Create").click()
    await expect_url(page, r"/admin/shows/[0-9a-f-]{36}/waiting-room$")
    show_id = page.url.split("/")[-2]

    await page.get_by_label("Release rate (fans per minute)").fill("60")
    await page.get_by_label("Active-session cap", exact=True).fill("1000")
    await page.get_by_label("Skip fans silent for (seconds)").fill("900")
    await page.screenshot(path=str(screenshots / "operator-waiting-room-form.png"),
                          full_page=True)
    await assert_no_serious_violations(page, axe_source, "waiting-room form")
    await page.get_by_role("button", name="Open the waiting room").press("Enter")
    await expect_url(page, rf"/admin/shows/{show_id}\?done=room", server)
    return show_id


async def admissions_peak(page: Any) -> int:
    """"… {peak} at most." of the admissions chart's description: the busiest minute's count."""
    text = await page.locator('svg[data-chart="admissions"] desc').text_content() or ""
    found = re.search(r"([\d,]+) at most", text)
    return int(found.group(1).replace(",", "")) if found else -1


async def expect_url(page: Any, pattern: str, server: LiveServer | None = None) -> None:
    """Wait for the page to reach ``pattern``; if it stays, fail with what the page says."""
    try:
        await page.wait_for_url(re.compile(pattern), timeout=60_000)
    except Exception as exc:
        alert = page.get_by_role("alert")
        said = await alert.all_text_contents() if await alert.count() else []
        invalid = await page.evaluate(
            "[...document.querySelectorAll(':invalid')].map(e => e.name + '=' + e.value)")
        log = server.log_tail() if server else ""
        raise AssertionError(f"still at {page.url}: {said} invalid: {invalid} {log}") from exc


async def raise_the_rate_and_pause(page: Any, live_server: LiveServer, show_id: str,
                                   screenshots: Path, axe_source: str) -> None:
    """60 → 600 a minute while the crowd waits: the figure and the chart follow; then pause:
    admissions stop."""

    async def waiting_shown() -> bool:
        return await metric(page, "waiting") > 0
    assert await wait_until(waiting_shown, 10), "the live view never showed the crowd"
    rate_line = page.locator('svg[data-chart="admissions"] [data-series="rate"]')
    assert await rate_line.get_attribute("data-last") == "60"
    slow = await metric(page, "admittedLastMinute")

    rate_form = page.locator('form[data-control="rate"]')
    await rate_form.locator('input[name="releaseRatePerMinute"]').fill("600")
    await rate_form.get_by_role("button", name="Set").click()
    assert "from 60 to 600" in (await page.locator("#confirm-dialog-text").text_content() or "")
    await confirm_in_dialog(page)
    await page.wait_for_url(re.compile(r"\?done=rate"))
    assert await metric(page, "releaseRatePerMinute") == 600

    async def admissions_rose() -> bool:
        return await metric(page, "admittedLastMinute") >= slow + 30
    assert await wait_until(admissions_rose, 12), (
        f"admitted per minute stayed near {slow}: {await metric(page, 'admittedLastMinute')}"
        f" {await live_server.progress(show_id)} {live_server.log_tail()}")

    async def chart_followed() -> bool:
        return await admissions_peak(page) >= 30
    assert await wait_until(chart_followed, 20), (
        "the admissions chart did not follow: "
        f"{await page.locator('svg[data-chart=admissions] desc').text_content()}"
        f" {await metric(page, 'admittedLastMinute')} {await metric(page, 'admittedTotal')}")
    assert await rate_line.get_attribute("data-last") == "600", "the rate line did not follow"

    async def etas_measured() -> bool:  # the admitted fans' predictions at join, measured
        return await metric(page, "etaMeasured") > 0
    assert await wait_until(etas_measured, 10), "the Wait estimates tiles measured nobody"
    p90 = await page.locator('[data-metric="etaErrorP90"]').text_content() or ""
    assert float(p90) >= 0, p90
    await page.screenshot(path=str(screenshots / "operator-live.png"), full_page=True)
    await assert_no_serious_violations(page, axe_source, "live view")

    await page.locator('[data-control="pause"]').click()
    await confirm_in_dialog(page)
    await page.wait_for_url(re.compile(r"\?done=pause"))
    await page.wait_for_timeout(2500)  # a tick in flight when the pause landed may still admit
    stopped_at = await metric(page, "admittedTotal")
    await page.wait_for_timeout(4500)  # two refreshes of the page, four ticks of the scheduler
    assert await metric(page, "admittedTotal") == stopped_at, "admissions went on while paused"
    assert await page.locator('[data-control="resume"]').is_visible()
    assert await metric(page, "waiting") > 0


async def read_the_audit_log(page: Any, show_id: str, screenshots: Path, axe_source: str
                             ) -> None:
    """Each change is a row, newest first, with the field and old → new."""
    await page.get_by_role("navigation", name="This show").get_by_role(
        "link", name="Audit log").click()
    await page.wait_for_url(re.compile(rf"/admin/audit\?show={show_id}"))
    rows = page.locator("[data-audit-row]")
    fields = [await rows.nth(i).get_attribute("data-field") for i in range(await rows.count())]
    assert fields[:3] == ["paused", "releaseRatePerMinute", "waitingRoom"]
    assert "false → true" in (await rows.nth(0).text_content() or "")
    assert "60 → 600" in (await rows.nth(1).text_content() or "")
    await page.screenshot(path=str(screenshots / "operator-audit.png"), full_page=True)
    await assert_no_serious_violations(page, axe_source, "audit log")


async def release_a_stuck_lock(page: Any, base: str, show_id: str, token: str, holder: str,
                               screenshots: Path, axe_source: str) -> None:
    """A fan's held seats show with their holder; releasing them frees them and is audited."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        locked = await http.post("/api/v1/bookings/lock", json={
            "showId": show_id, "seatIds": ["C4", "C5"]},
            headers={"Authorization": f"Bearer {token}"})
    assert locked.status_code == 200, locked.text
    await page.goto(f"{base}/admin/shows/{show_id}/seats")
    assert await page.locator('[data-seat="C4"]').get_attribute("data-status") == "LOCKED"
    assert holder in (await page.locator("table.op-table").text_content() or "")
    await page.screenshot(path=str(screenshots / "operator-seats.png"), full_page=True)
    await assert_no_serious_violations(page, axe_source, "operator seat map")
    await page.get_by_role("button", name="Release C4, C5").click()
    await confirm_in_dialog(page)
    await page.wait_for_url(re.compile(r"/seats\?done=2"))
    assert await page.locator('[data-seat="C4"]').get_attribute("data-status") == "AVAILABLE"
    await page.goto(f"{base}/admin/audit?show={show_id}")
    assert await page.locator("[data-audit-row]").first.get_attribute("data-field") == (
        "lock C4, C5")


async def test_an_operator_runs_an_on_sale_from_the_browser(
    live_server: LiveServer, open_page: OpenPage, axe_source: str, screenshots: Path,
    access_token: Callable[..., str],
) -> None:
    """Sign in, set up a show from a CSV layout, open its room, raise the rate while a crowd
    waits (the admitted-per-minute figure and chart follow), pause (admissions stop), read each
    change in the audit log, release a lock from the operator seat map."""
    base = live_server.base_url
    page = await open_page(viewport=CONSOLE)
    page.set_default_timeout(60_000)  # the 2-core test machine is shared: be patient
    await page.goto(f"{base}/admin/login")
    await assert_no_serious_violations(page, axe_source, "sign-in")
    await page.screenshot(path=str(screenshots / "operator-login.png"))
    await sign_in(page, base)
    show_id = await set_up_show(page, live_server, screenshots, axe_source)
    assert await metric(page, "seatsAvailable") == 30
    assert await metric(page, "releaseRatePerMinute") == 60

    await live_server.join_fans(show_id, CROWD)
    await raise_the_rate_and_pause(page, live_server, show_id, screenshots, axe_source)
    await read_the_audit_log(page, show_id, screenshots, axe_source)
    holder = f"stuck-{uuid.uuid4().hex[:6]}"
    await release_a_stuck_lock(page, base, show_id, access_token(show_id, holder), holder,
                               screenshots, axe_source)
    await page.goto(f"{base}/admin/shows/{show_id}/funnel")
    joined = page.locator('[data-funnel-step="joined"] [data-funnel-count]')
    assert int(await joined.text_content() or 0) == CROWD
    await assert_no_serious_violations(page, axe_source, "funnel")
    await page.screenshot(path=str(screenshots / "operator-funnel.png"), full_page=True)


async def test_the_console_speaks_hindi(live_server: LiveServer, open_page: OpenPage,
                                        axe_source: str, screenshots: Path) -> None:
    """With a Hindi browser the console's pages are in Hindi (the live view too)."""
    show_id = await live_server.create_show()
    await live_server.put_room(show_id)
    page = await open_page(viewport=CONSOLE, language="hi-IN")
    await page.goto(f"{live_server.base_url}/admin/login")
    await page.get_by_label("ऑपरेटर टोकन").fill(OPERATOR_TOKEN)
    await page.get_by_role("button", name="साइन इन करें").click()
    await page.wait_for_url(f"{live_server.base_url}/admin")
    await page.goto(f"{live_server.base_url}/admin/shows/{show_id}")
    assert await page.get_by_role("heading", name="भीड़").is_visible()
    assert await page.get_by_role("heading", name="प्रतीक्षा के अनुमान").is_visible()
    assert await page.locator('[data-control="pause"]').text_content() == "प्रवेश रोकें"
    await assert_no_serious_violations(page, axe_source, "live view in Hindi")
    await page.screenshot(path=str(screenshots / "operator-live-hi.png"), full_page=True)
