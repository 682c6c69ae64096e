"""The fans' queue API and the operators' room API, end to end over HTTP (CONTRACT.md)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from admitone.runtime import Services
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import confirm, pending_booking
from tests.integration.queue_support import (
    OPERATOR,
    Clock,
    admission_of,
    join,
    put_room,
    status,
    tick,
)


async def test_join_answers_the_contract_shape(client: httpx.AsyncClient, make_show: MakeShow) -> None:
    """Join answers 200 with status, token, ticketNumber, position, totalInQueue, ETA."""
    show = await make_show()
    await put_room(client, show.id)
    first = await join(client, show.id)
    second = await join(client, show.id)
    assert first.status_code == 200, first.text
    body = second.json()
    assert set(body) == {"status", "token", "ticketNumber", "position", "totalInQueue",
                         "estimatedWaitSeconds"}
    assert body["status"] == "WAITING"
    assert (body["ticketNumber"], body["position"], body["totalInQueue"]) == (2, 2, 2)
    # 600/min is 10 fans a tick; no tick ran yet: the first (taken as half a tick away) starts
    # the bucket, the one after it lets both in
    assert body["estimatedWaitSeconds"] == 2
    assert second.headers["cache-control"] == "no-store"


async def test_joining_again_with_the_token_keeps_the_place(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """Joining again with the same queue token keeps the original position."""
    show = await make_show()
    await put_room(client, show.id)
    first = (await join(client, show.id)).json()
    for _ in range(3):
        await join(client, show.id)
    again = (await join(client, show.id, first["token"])).json()
    assert (again["ticketNumber"], again["position"], again["totalInQueue"]) == (1, 1, 4)


async def test_status_reports_position_and_then_the_access_token(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """A waiting fan's status is its exact position; once admitted, an access token for the
    show whose exp is the end of its session and which opens the seat map."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=60, sessionSeconds=120)
    tokens = [(await join(client, show.id)).json()["token"] for _ in range(3)]
    waiting = (await status(client, show.id, tokens[2])).json()
    # one fan a tick, no tick ran yet: the first fan 1.5 s away, the third two ticks later
    assert waiting == {"status": "WAITING", "position": 3, "totalInQueue": 3,
                       "estimatedWaitSeconds": 4, "ticketNumber": 3}
    clock = Clock.seconds_ago(1.05)
    await tick(services, show.id, clock)
    clock.advance(1.05)
    result = await tick(services, show.id, clock)
    assert len(result.admitted) == 1
    admitted = await status(client, show.id, tokens[0])
    body = admitted.json()
    assert body["status"] == "ADMITTED", body
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert set(claims) == {"iss", "aud", "sub", "showId", "jti", "iat", "nbf", "exp"}
    assert claims["showId"] == show.id
    assert claims["exp"] == int(datetime.fromisoformat(body["accessExpiresAt"]).timestamp())
    assert 110 <= claims["exp"] - claims["iat"] <= 121
    header = jwt.get_unverified_header(body["accessToken"])
    assert header["alg"] == "EdDSA"
    assert header["kid"]
    seats = await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(body["accessToken"]))
    assert seats.status_code == 200
    still = (await status(client, show.id, tokens[1])).json()
    assert (still["status"], still["position"]) == ("WAITING", 1)
    await asyncio.sleep(1.1)  # a later second: a fresh signature would carry another iat
    again = (await status(client, show.id, tokens[0])).json()
    assert again["accessToken"] == body["accessToken"]  # the one issued, not re-signed per poll


async def test_a_fan_who_never_queued_reaches_no_booking_route(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """Without an access token every booking-core route answers 401 and does nothing; a queue
    token is not an access token."""
    show = await make_show()
    await put_room(client, show.id)
    queue_token = (await join(client, show.id)).json()["token"]
    calls = [
        ("GET", f"/api/v1/shows/{show.id}/seats", None),
        ("POST", "/api/v1/bookings/lock", {"showId": show.id, "seatIds": ["A1"]}),
        ("PUT", f"/api/v1/bookings/lock/{uuid.uuid4()}/extend", None),
        ("DELETE", f"/api/v1/bookings/lock/{uuid.uuid4()}", None),
        ("POST", "/api/v1/bookings", {"lockId": str(uuid.uuid4()), "paymentMethod": "CARD",
                                      "email": "a@example.com"}),
        ("GET", f"/api/v1/bookings/{uuid.uuid4()}", None),
        ("DELETE", f"/api/v1/bookings/{uuid.uuid4()}", None),
        ("GET", f"/api/v1/bookings/{uuid.uuid4()}/ticket", None),
    ]
    for headers in ({}, bearer(queue_token), {"X-Queue-Token": queue_token}):
        for method, path, body in calls:
            response = await client.request(method, path, json=body,
                                            headers={**headers, "Idempotency-Key": "k-1"})
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "TOKEN_INVALID"
    seats = await client.get(f"/api/v1/shows/{show.id}/seats", headers=OPERATOR)
    assert seats.status_code == 401


async def test_leave_removes_the_fan_at_once(client: httpx.AsyncClient, make_show: MakeShow) -> None:
    """After leave (204) the fan behind moves up and the leaver's status is 410."""
    show = await make_show()
    await put_room(client, show.id)
    first = (await join(client, show.id)).json()["token"]
    second = (await join(client, show.id)).json()["token"]
    left = await client.delete(f"/api/v1/queue/{show.id}/leave", headers={"X-Queue-Token": first})
    assert left.status_code == 204
    assert (await status(client, show.id, second)).json()["position"] == 1
    gone = await status(client, show.id, first)
    assert gone.status_code == 410
    assert gone.json()["error"] == "QUEUE_PLACE_EXPIRED"


async def test_before_opens_at_join_answers_425_with_the_opening_time(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """Before opensAt nobody gets a place: 425 with opensAt and Retry-After."""
    show = await make_show()
    opens = datetime.now(UTC) + timedelta(minutes=10)
    await put_room(client, show.id, opensAt=opens.isoformat(),
                   startsAt=(opens + timedelta(minutes=5)).isoformat())
    response = await join(client, show.id)
    assert response.status_code == 425
    body = response.json()
    assert body["error"] == "QUEUE_NOT_OPEN"
    assert abs(datetime.fromisoformat(body["opensAt"]) - opens) < timedelta(seconds=1)
    assert 590 <= int(response.headers["retry-after"]) <= 600
    progress = (await client.get(f"/api/v1/queue/{show.id}/progress")).json()
    assert progress["status"] == "CLOSED"


async def test_between_opens_and_starts_fans_are_in_the_prequeue(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """Between opensAt and startsAt join and status say PREQUEUE; in a random pre-queue the
    ticket number is not drawn yet."""
    show = await make_show()
    now = datetime.now(UTC)
    await put_room(client, show.id, queueMode="RANDOM_PREQUEUE",
                   opensAt=(now - timedelta(minutes=1)).isoformat(),
                   startsAt=(now + timedelta(minutes=10)).isoformat())
    body = (await join(client, show.id)).json()
    assert body["status"] == "PREQUEUE"
    assert body["ticketNumber"] is None
    assert body["position"] is None
    assert (await status(client, show.id, body["token"])).json()["status"] == "PREQUEUE"
    progress = (await client.get(f"/api/v1/queue/{show.id}/progress")).json()
    assert progress["status"] == "PREQUEUE"


async def test_a_closed_room_and_a_show_without_room(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """A disabled room refuses joins (409 QUEUE_CLOSED); an id that is no show answers 404 —
    never a 500; a show on sale without a room has no progress (404)."""
    show = await make_show()
    other = await make_show()
    await put_room(client, show.id, enabled=False)
    closed = await join(client, show.id)
    assert (closed.status_code, closed.json()["error"]) == (409, "QUEUE_CLOSED")
    for show_id in (str(uuid.uuid4()), "not-a-show", "%00"):
        for response in (await join(client, show_id),
                         await client.get(f"/api/v1/queue/{show_id}/progress")):
            assert response.status_code == 404, response.text
            assert response.json()["error"] == "WAITING_ROOM_NOT_FOUND"
    progress = await client.get(f"/api/v1/queue/{other.id}/progress")
    assert progress.status_code == 404
    assert progress.json()["error"] == "WAITING_ROOM_NOT_FOUND"


async def test_a_show_without_a_room_admits_at_once(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """No flash sale, no queue: join answers ADMITTED with an access token that opens the
    show's seat map, so every show on sale is bookable through the same door."""
    show = await make_show()
    joined = await join(client, show.id)
    assert joined.status_code == 200, joined.text
    body = joined.json()
    assert body["status"] == "ADMITTED"
    assert body["token"]
    seats = await client.get(f"/api/v1/shows/{show.id}/seats",
                             headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert seats.status_code == 200
    past = await make_show(starts_in=timedelta(minutes=-5))
    gone = await join(client, past.id)
    assert (gone.status_code, gone.json()["error"]) == (404, "WAITING_ROOM_NOT_FOUND")


async def test_progress_is_the_same_for_everyone_and_cacheable(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """Progress names status, admittedThrough, totalInQueue, the observed rate and a time; it is
    public for a second and computed once a second however many ask."""
    show = await make_show()
    await put_room(client, show.id)
    for _ in range(3):
        await join(client, show.id)
    responses = await asyncio.gather(
        *(client.get(f"/api/v1/queue/{show.id}/progress") for _ in range(50))
    )
    bodies = {r.content for r in responses}
    assert len(bodies) == 1
    body = json.loads(bodies.pop())
    assert set(body) == {"status", "admittedThrough", "totalInQueue",
                         "observedAdmissionsPerMinute", "updatedAt"}
    assert (body["status"], body["admittedThrough"], body["totalInQueue"]) == ("OPEN", 0, 3)
    assert responses[0].headers["cache-control"] == "public, max-age=1"
    await join(client, show.id)
    cached = (await client.get(f"/api/v1/queue/{show.id}/progress")).json()
    assert cached["totalInQueue"] == 3
    # Real time: the progress cache's one second is measured by the service's monotonic clock.
    await asyncio.sleep(1.05)
    fresh = (await client.get(f"/api/v1/queue/{show.id}/progress")).json()
    assert fresh["totalInQueue"] == 4
    assert admission_of(services).rooms is not None


async def test_a_confirmation_naming_no_visitor_frees_nothing(services: Services) -> None:
    """The waiting room's listener reads no booking tables: a payload without showId and
    visitorId, or with a show id that is not one, frees no slot and raises nothing."""
    rooms = admission_of(services)
    assert await rooms.on_booking_confirmed({"bookingId": str(uuid.uuid4())}) is False
    assert await rooms.on_booking_confirmed({"showId": "no-show", "visitorId": "v-1"}) is False


@pytest.mark.parametrize("row_names_visitor", [True, False], ids=["row-names-visitor", "older-row"])
async def test_a_confirmed_booking_frees_the_fans_slot_through_the_outbox(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow, row_names_visitor: bool
) -> None:
    """A fan admitted through the queue books and pays; when the outbox delivers
    booking.confirmed its slot in maxActive is free for the next fan, and its token still shows
    the booking. A row written before booking.confirmed named its show and visitor does too."""
    show = await make_show()
    await put_room(client, show.id, maxActive=1)
    queue_token = (await join(client, show.id)).json()["token"]
    await join(client, show.id)
    clock = Clock.seconds_ago(2.1)
    await tick(services, show.id, clock)
    clock.advance(1.05)
    await tick(services, show.id, clock)
    access = (await status(client, show.id, queue_token)).json()["accessToken"]
    booking = await pending_booking(client, show, lambda *_: access, ["B3"])
    await confirm(client, services, booking)
    stats_path = f"/api/v1/admin/shows/{show.id}/waiting-room/stats"
    assert (await client.get(stats_path, headers=OPERATOR)).json()["active"] == 1
    if not row_names_visitor:
        await services.pool.execute(
            "UPDATE outbox SET payload = payload - 'showId' - 'visitorId'"
            " WHERE topic = 'booking.confirmed' AND payload->>'bookingId' = $1", booking.id
        )
    await services.outbox.run_once()
    assert (await client.get(stats_path, headers=OPERATOR)).json()["active"] == 0
    clock.advance(1.05)
    assert len((await tick(services, show.id, clock)).admitted) == 1  # the next fan's turn
    seen = await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(access))
    assert seen.status_code == 200
