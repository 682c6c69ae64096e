"""Failure behaviour (DESIGN): Redis down → the queue fails closed (503, no 500) unless the room
fails open; Redis losing its state mid-run → the room is restored from PostgreSQL and fans
keep their places; admitted fans keep booking without Redis."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable

import httpx
import jwt
import pytest

from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer
from tests.integration.queue_support import (
    OPERATOR,
    app_client,
    join,
    put_room,
    scheduler_for,
    status,
)


def _dead_redis_url() -> str:
    """A Redis URL nothing listens on (a port the OS just handed out and took back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="module")
async def no_redis(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """The app with PostgreSQL up and Redis down."""
    async with app_client(make_settings(redis_url=_dead_redis_url())) as pair:
        yield pair


async def test_redis_down_fails_closed_without_a_500(
    client: httpx.AsyncClient, no_redis: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """With Redis down, join, status, leave and progress of a fail-closed room answer 503
    QUEUE_UNAVAILABLE with Retry-After; operators can still change the room."""
    _, down = no_redis
    show = await make_show()
    await put_room(client, show.id)
    token = (await join(client, show.id)).json()["token"]
    answers = [
        await join(down, show.id), await status(down, show.id, token),
        await down.delete(f"/api/v1/queue/{show.id}/leave", headers={"X-Queue-Token": token}),
        await down.get(f"/api/v1/queue/{show.id}/progress"),
    ]
    for response in answers:
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "QUEUE_UNAVAILABLE"
        assert int(response.headers["retry-after"]) >= 1
    changed = await down.patch(f"/api/v1/admin/shows/{show.id}/waiting-room",
                               json={"releaseRatePerMinute": 30}, headers=OPERATOR)
    assert changed.status_code == 200
    stats = await down.get(f"/api/v1/admin/shows/{show.id}/waiting-room/stats", headers=OPERATOR)
    assert stats.status_code == 503


async def test_a_fail_open_room_lets_fans_through_and_they_book_without_redis(
    client: httpx.AsyncClient, no_redis: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """With failOpen and Redis down, join answers ADMITTED with an access token minted without
    Redis, and that fan can lock seats: the booking core stands on PostgreSQL alone."""
    _, down = no_redis
    show = await make_show()
    await put_room(client, show.id, failOpen=True, sessionSeconds=600)
    response = await join(down, show.id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ADMITTED"
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert claims["showId"] == show.id
    assert 590 <= claims["exp"] - claims["iat"] <= 601
    again = await status(down, show.id, body["token"])
    assert again.json()["status"] == "ADMITTED"
    locked = await down.post("/api/v1/bookings/lock", headers=bearer(body["accessToken"]),
                             json={"showId": show.id, "seatIds": ["A1", "A2"]})
    assert locked.status_code == 200, locked.text
    seats = await down.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(body["accessToken"]))
    assert seats.status_code == 200


async def test_admitted_fans_keep_booking_while_redis_is_down(
    client: httpx.AsyncClient, services: Services, no_redis: tuple[Services, httpx.AsyncClient],
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """An access token issued before Redis went down still opens the booking core (revocation
    checks fail open)."""
    _, down = no_redis
    show = await make_show()
    token = access_token(show.id)
    response = await down.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(token))
    assert response.status_code == 200
    introspected = await down.post("/api/v1/tokens/introspect", json={"token": token})
    assert introspected.json()["active"] is True


async def test_redis_losing_its_state_mid_run_recovers_without_a_500(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """FLUSHDB while fans wait and the scheduler runs: no request fails with a 500, waiting fans
    get their places back in their old order, the room's settings and revocations are restored
    from PostgreSQL, and admission goes on."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=120, maxActive=1000)
    tokens = [(await join(client, show.id)).json()["token"] for _ in range(12)]
    revoked_token = tokens.pop()
    revoked = jwt.decode(revoked_token, options={"verify_signature": False})["sub"]
    assert (await client.post(f"/api/v1/admin/shows/{show.id}/visitors/{revoked}/revoke",
                              headers=OPERATOR)).status_code == 204
    scheduler = scheduler_for(services)
    task = asyncio.create_task(scheduler.run())
    try:
        await asyncio.sleep(2.2)  # a couple of fans get in
        await services.redis.flushdb()  # Redis "restarts" with nothing
        answers = await asyncio.gather(
            *(status(client, show.id, token) for token in tokens),
            join(client, show.id), client.get(f"/api/v1/queue/{show.id}/progress"),
        )
        assert all(r.status_code < 500 for r in answers), [r.text for r in answers]
        assert (await status(client, show.id, revoked_token)).status_code == 410
        places = [(await status(client, show.id, token)).json() for token in tokens]
        waiting = [place for place in places if place["status"] == "WAITING"]
        assert len(waiting) >= 5, "the waiting fans did not get their places back"
        by_position = sorted(waiting, key=lambda place: place["position"])
        tickets = [place["ticketNumber"] for place in by_position]
        assert tickets == sorted(tickets)  # the old order
        newcomer = answers[len(tokens)].json()
        assert newcomer["ticketNumber"] > tickets[-1]
        await asyncio.sleep(3.2)  # the bucket starts empty again: a first tick, then 2 a tick
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    stats = (await client.get(f"/api/v1/admin/shows/{show.id}/waiting-room/stats",
                              headers=OPERATOR)).json()
    assert stats["admittedTotal"] >= 2  # admitted since the flush
    assert stats["releaseRatePerMinute"] == 120
    introspected = await client.post("/api/v1/tokens/introspect", json={
        "token": services.tokens.issue_access_token(show_id=show.id, visitor_id=revoked,
                                                    expires_at=int(time.time()) + 60)})
    assert introspected.json() == {"active": False}  # the revocation came back from PostgreSQL
