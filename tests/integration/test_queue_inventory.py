"""The inventory-aware queue: chance of tickets per place, SOLD_OUT at sell-out with no
admission, and the queue resuming by itself, in order, when seats come back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from admitone.runtime import Services
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import confirmed_booking
from tests.integration.queue_support import join, patch_room, put_room, status, tick


async def _levels(client: httpx.AsyncClient, show: str, fans: list[dict[str, str]]) -> list[str]:
    answers = [(await status(client, show, fan["token"])).json() for fan in fans]
    return [answer["chance"]["level"] for answer in answers]


async def test_each_place_is_told_its_chance_from_the_seats_left(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services
) -> None:
    """Four seats, nobody admitted yet (two seats an order assumed until orders say more):
    the first fan is likely, the next two uncertain, the rest unlikely, with the seats and
    the people ahead counted."""
    show = await make_show(rows=1, seats_per_row=4)
    await put_room(client, show.id, releaseRatePerMinute=1, maxActive=1, paused=True)
    fans = [(await join(client, show.id)).json() for _ in range(6)]
    assert "chance" not in fans[0]  # the room has not read the seat counts yet
    await tick(services, show.id)  # reads the seat counts (paused: admits nobody)
    levels = await _levels(client, show.id, fans)
    assert levels == ["LIKELY", "UNCERTAIN", "UNCERTAIN", "UNLIKELY", "UNLIKELY", "UNLIKELY"]
    last = (await status(client, show.id, fans[-1]["token"])).json()
    assert last["chance"]["seatsLeft"] == 4
    assert last["chance"]["peopleAhead"] == 5


async def test_sell_out_stops_admission_tells_everyone_and_seats_coming_back_resume_it(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services,
    access_token: Callable[..., str],
) -> None:
    """With every seat booked, no fan is admitted and every waiting fan (and the progress
    answer) says SOLD_OUT without an ETA; a cancellation brings seats back and the queue goes
    on by itself, first fan first."""
    show = await make_show(rows=1, seats_per_row=2)
    # A fan a millisecond, one at a time: the first tick after seats return admits the first.
    await put_room(client, show.id, releaseRatePerMinute=60_000, maxActive=1)
    booking = await confirmed_booking(client, services, show, access_token, ["A1", "A2"])
    fans = [(await join(client, show.id)).json() for _ in range(3)]
    result = await tick(services, show.id)
    assert result.phase == "SOLDOUT"
    assert result.admitted == []
    for fan in fans:
        answer = (await status(client, show.id, fan["token"])).json()
        assert answer["status"] == "SOLD_OUT"
        assert answer.get("estimatedWaitSeconds") is None
        assert answer["chance"]["level"] == "UNLIKELY"
    progress = (await client.get(f"/api/v1/queue/{show.id}/progress")).json()
    assert progress["status"] == "SOLD_OUT"
    late = (await join(client, show.id)).json()
    assert late["status"] == "SOLD_OUT"  # a place is kept in case seats come back

    cancelled = await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    assert cancelled.status_code == 200, cancelled.text
    await tick(services, show.id)  # sees the seats back: the bucket starts filling
    await asyncio.sleep(0.01)  # real time for the bucket (the suite's store reads Redis TIME)
    result = await tick(services, show.id)
    assert result.phase == "OPEN"
    first = (await status(client, show.id, fans[0]["token"])).json()
    assert first["status"] == "ADMITTED"
    assert first["seatsLeft"] == 2
    second = (await status(client, show.id, fans[1]["token"])).json()
    assert second["status"] == "WAITING"
    assert second["position"] == 1


async def test_an_admitted_fan_is_told_when_fewer_seats_are_left_than_fans_choosing(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services
) -> None:
    """Three fans admitted at once for two seats: each is told before the seat map that fewer
    seats are left than fans choosing."""
    show = await make_show(rows=1, seats_per_row=2)
    await put_room(client, show.id, releaseRatePerMinute=600_000, maxActive=10)
    fans = [(await join(client, show.id)).json() for _ in range(3)]
    await tick(services, show.id)  # reads the counts; the bucket starts filling
    await asyncio.sleep(0.01)  # ten fans a millisecond: all three fit in the next tick
    await tick(services, show.id)
    for fan in fans:
        answer = (await status(client, show.id, fan["token"])).json()
        assert answer["status"] == "ADMITTED", answer
        assert answer["seatsLeft"] == 2
        assert answer["fewSeatsLeft"] is True


async def test_a_paused_room_promises_no_wait(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """While the room is paused a waiting fan gets no estimated wait but the reason, instead
    of a number nobody can keep; resumed, the estimate is back."""
    show = await make_show()
    await put_room(client, show.id, paused=True)
    paused = (await join(client, show.id)).json()
    assert paused["estimatedWaitSeconds"] is None
    assert paused["estimatedWaitReason"] == "PAUSED"
    await patch_room(client, show.id, paused=False)
    resumed = (await status(client, show.id, paused["token"])).json()
    assert resumed["estimatedWaitSeconds"] >= 1
    assert "estimatedWaitReason" not in resumed
