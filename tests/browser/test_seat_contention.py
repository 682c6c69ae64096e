"""Two fans, two browser contexts, the same seat: the seat map follows the other fan live, and a
fan who presses "Hold seats" on a seat just taken is told so and offered seats nearby."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.browser.conftest import LiveServer, OpenPage
from tests.browser.seat_support import (
    create_hall_show,
    open_admitted,
    seat_states,
    seat_status,
    wait_for_state,
)

LIVE_SECONDS = 2.0


async def test_a_seat_held_by_another_fan_turns_unavailable_live_within_two_seconds(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """Fan B has D5 picked when fan A holds D5 and D6: within 2 s, without a reload, B's map
    shows both as held by someone else (name, state and pattern), D5 leaves B's picks, and B
    is told why."""
    show_id = await create_hall_show(live_server)
    fan_a = await open_admitted(open_page, live_server, show_id, access_token(show_id))
    fan_b = await open_admitted(open_page, live_server, show_id, access_token(show_id))
    await fan_b.wait_for_function("document.getElementById('seats').dataset.live === 'stream'")
    await fan_b.evaluate("window.__sameDocument = true")
    await fan_b.get_by_role("gridcell", name="Row D, Seat 5, Available, Regular, ₹200").click()
    assert await seat_status(fan_b, "D5") == "SELECTED"

    for seat in ("D5", "D6"):
        await fan_a.locator(f"#seat-{seat}").click()
    await fan_a.get_by_role("button", name="Hold seats").click()
    await fan_a.wait_for_url(f"**/shows/{show_id}/checkout")
    held_at = time.monotonic()

    await fan_b.wait_for_function(
        "['D5', 'D6'].every(id => document.getElementById(`seat-${id}`).dataset.status"
        " === 'LOCKED')", timeout=LIVE_SECONDS * 1000)
    assert time.monotonic() - held_at < LIVE_SECONDS
    assert await fan_b.evaluate("window.__sameDocument") is True
    held = fan_b.get_by_role("gridcell", name="Row D, Seat 5, Held by someone else, Regular, ₹200")
    assert await held.get_attribute("aria-disabled") == "true"
    assert "seat--locked" in (await held.get_attribute("class") or "")
    assert await fan_b.locator("#summary-list li").count() == 0
    assert "D5 was just taken" in (await fan_b.locator("#seats-info-text").text_content() or "")
    assert await fan_b.get_by_role("button", name="Hold seats").is_disabled()


async def stale_seat_map(page: Any) -> None:
    """Freeze what this fan's page knows: no live stream, and every later seat-map read gets
    the first answer again (the fan's view is a moment old when it presses the button)."""
    first: dict[str, str] = {}

    async def seat_map(route: Any) -> None:
        if route.request.method != "GET":
            await route.continue_()
            return
        if "body" not in first:
            response = await route.fetch()
            first["body"] = await response.text()
        await route.fulfill(status=200, body=first["body"], content_type="application/json")

    await page.route("**/seat-events/ticket", lambda route: route.abort())
    await page.route("**/api/v1/shows/*/seats", seat_map)


async def test_a_fan_who_holds_a_seat_just_taken_is_told_and_offered_seats_nearby(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """Fan B presses "Hold seats" on D5 and D6 after fan A took D5 but before B's map knew: B
    gets a clear message naming D5, D5 turns unavailable on B's map (D6 stays picked), the
    suggested seats are offered (focus on the offer), one click picks them instead, and
    holding them then works."""
    show_id = await create_hall_show(live_server)
    fan_a = await open_admitted(open_page, live_server, show_id, access_token(show_id))
    fan_b = await open_page()
    await stale_seat_map(fan_b)
    await fan_b.context.add_init_script(
        f"sessionStorage.setItem({json.dumps(f'access_token:{show_id}')}, "
        f"{json.dumps(access_token(show_id))});")
    await fan_b.goto(f"{live_server.base_url}/shows/{show_id}/seats")
    await wait_for_state(fan_b, "seats", "ready")
    for seat in ("D5", "D6"):
        await fan_b.locator(f"#seat-{seat}").click()

    await fan_a.locator("#seat-D5").click()
    await fan_a.get_by_role("button", name="Hold seats").click()
    await fan_a.wait_for_url(f"**/shows/{show_id}/checkout")
    assert await seat_status(fan_b, "D5") == "SELECTED"  # B does not know yet

    await fan_b.get_by_role("button", name="Hold seats").click()
    alert = fan_b.get_by_role("alert")
    await alert.get_by_text("Sorry, seat D5 was taken by someone else a moment ago.").wait_for()
    assert await seat_status(fan_b, "D5") == "LOCKED"
    assert await seat_status(fan_b, "D6") == "SELECTED"  # still free: still picked
    offer = alert.get_by_role("button", name="Pick seats")
    focused = await fan_b.evaluate("document.activeElement.id")
    assert focused == "alternatives-button"
    label = await offer.text_content() or ""
    suggested = label.removeprefix("Pick seats ").removesuffix(" instead").split(", ")
    assert len(suggested) == 2, label
    assert not {"D5", "D6"} & set(suggested), label

    await offer.click()
    for seat in suggested:
        assert await seat_status(fan_b, seat) == "SELECTED"
    assert await seat_status(fan_b, "D6") == "AVAILABLE"  # the offer replaces the picks
    await fan_b.get_by_role("button", name="Hold seats").click()
    await fan_b.wait_for_url(f"**/shows/{show_id}/checkout")
    states = await seat_states(live_server, show_id, access_token(show_id))
    assert [states[seat] for seat in suggested] == ["LOCKED", "LOCKED"]
    assert states["D6"] == "AVAILABLE"


async def test_without_the_live_stream_the_map_polls_and_the_stream_comes_back(
    live_server: LiveServer, open_page: OpenPage, access_token: Callable[..., str]
) -> None:
    """When the stream cannot be opened the page reads the seat map every 5 s, so a seat
    another fan holds shows within about 5 s; once the stream can be opened again the page
    goes back to it and stops polling."""
    show_id = await create_hall_show(live_server)
    fan = await open_page()
    await fan.route("**/seat-events/ticket", lambda route: route.abort())
    reads: list[float] = []
    fan.on("request", lambda r: reads.append(time.monotonic())
           if r.method == "GET" and r.url.endswith(f"/api/v1/shows/{show_id}/seats") else None)
    await fan.context.add_init_script(
        f"sessionStorage.setItem({json.dumps(f'access_token:{show_id}')}, "
        f"{json.dumps(access_token(show_id))});")
    await fan.goto(f"{live_server.base_url}/shows/{show_id}/seats")
    await wait_for_state(fan, "seats", "ready")
    await fan.wait_for_function("document.getElementById('seats').dataset.live === 'polling'")

    other = access_token(show_id)
    async with live_server.client(Authorization=f"Bearer {other}") as http:
        locked = await http.post("/api/v1/bookings/lock",
                                 json={"showId": show_id, "seatIds": ["B3"]})
    assert locked.status_code == 200, locked.text
    taken_at = time.monotonic()
    await fan.wait_for_function("document.getElementById('seat-B3').dataset.status"
                                " === 'LOCKED'", timeout=7000)
    assert time.monotonic() - taken_at < 6.5
    assert len(reads) >= 2, reads
    assert 4.0 < reads[1] - reads[0] < 6.5, reads  # the first load, then a poll 5 s later

    await fan.unroute("**/seat-events/ticket")
    await fan.wait_for_function("document.getElementById('seats').dataset.live === 'stream'",
                                timeout=20_000)
    polled = len(reads)
    await fan.wait_for_timeout(6000)
    assert len(reads) == polled  # no more polling while the stream works
