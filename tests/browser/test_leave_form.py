"""The no-JS leave form in a real browser: it carries its CSRF token and still works."""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import LiveServer, OpenPage


async def test_without_javascript_the_leave_form_still_leaves(
    live_server: LiveServer, open_page: OpenPage, tmp_path: Path
) -> None:
    """The forms' hidden token (bound to the queue cookie) comes with the pages, so the fan
    without JavaScript leaves through the confirm page as before the CSRF check."""
    show_id = await live_server.create_show()
    await live_server.put_room(show_id, releaseRatePerMinute=120, paused=True)
    page = await open_page(javascript=False)
    await page.goto(f"{live_server.base_url}/shows/{show_id}/queue")
    await page.get_by_role("button", name="Join the queue").click()
    await page.wait_for_url(f"**/shows/{show_id}/queue")
    await page.get_by_role("heading", level=2, name="The queue is paused").wait_for()
    token = await page.locator('form.js-leave-form input[name="csrf"]').get_attribute("value")
    assert token
    await page.get_by_role("button", name="Leave the queue").click()
    confirm = page.locator("#queue-leave-confirm")
    await confirm.wait_for()
    assert await page.locator('form.js-leave-confirm-form input[name="csrf"]').get_attribute(
        "value") == token
    await confirm.click()
    await page.get_by_role("heading", level=2, name="You left the queue").wait_for()
    await page.screenshot(path=str(tmp_path / "left.png"))
    assert (tmp_path / "left.png").stat().st_size > 0
