"""The live seat stream: ``POST …/seat-events/ticket`` then ``GET …/seat-events?ticket=``.

httpx's ASGI transport hands back a response only once the app has finished it, so an endless
stream is read here over real HTTP: uvicorn serves the test app on a free port, in this event
loop (the services' pools live here too).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from redis.asyncio import Redis

from admitone.booking_core.seat_stream import SeatEventHub
from admitone.gateway.app import create_app
from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer

EVENT_TIMEOUT_SECONDS = 5.0


@pytest.fixture
async def http_base(app: Litestar) -> AsyncIterator[str]:
    """The app over real HTTP on 127.0.0.1 (lifespan off: the session owns the services)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert not task.done(), "uvicorn stopped"
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


class EventReader:
    """Reads ``event:``/``data:`` blocks off an SSE response."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    async def next(self, within_seconds: float = EVENT_TIMEOUT_SECONDS
                   ) -> tuple[str, dict[str, Any]]:
        async with asyncio.timeout(within_seconds):
            return await self._next()

    async def _next(self) -> tuple[str, dict[str, Any]]:
        event, data = "message", ""
        async for line in self.lines:
            if line.startswith(":"):
                continue
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif line == "" and data:
                return event, json.loads(data)
        raise EOFError("the stream ended")


async def ticket_for(client: httpx.AsyncClient, show_id: str, token: str) -> str:
    response = await client.post(f"/api/v1/shows/{show_id}/seat-events/ticket",
                                 headers=bearer(token))
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    ticket: str = response.json()["ticket"]
    return ticket


async def test_the_stream_tells_of_a_lock_by_another_visitor_within_two_seconds(
    client: httpx.AsyncClient, http_base: str, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A fan watching the seat map gets ``SEAT_LOCKED`` for the seats another visitor locked,
    within 2 s of the lock's answer, and ``SEAT_RELEASED`` when that visitor lets them go."""
    show = await make_show(rows=2, seats_per_row=6)
    ticket = await ticket_for(client, show.id, access_token(show.id))
    other = access_token(show.id)
    url = f"{http_base}/api/v1/shows/{show.id}/seat-events"
    async with httpx.AsyncClient(timeout=10) as http, http.stream(
            "GET", url, params={"ticket": ticket}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = EventReader(response)
        assert await events.next() == ("ready", {"showId": show.id})

        locked = await client.post("/api/v1/bookings/lock", headers=bearer(other),
                                   json={"showId": show.id, "seatIds": ["A3", "A4"]})
        assert locked.status_code == 200, locked.text
        answered = time.monotonic()
        event, data = await events.next()
        assert time.monotonic() - answered < 2.0
        assert (event, data) == ("seats", {"type": "SEAT_LOCKED", "showId": show.id,
                                           "seatIds": ["A3", "A4"]})

        released = await client.delete(f"/api/v1/bookings/lock/{locked.json()['lockId']}",
                                       headers=bearer(other))
        assert released.status_code == 200, released.text
        event, data = await events.next(2.0)
        assert event == "seats"
        assert data["type"] == "SEAT_RELEASED"
        assert sorted(data["seatIds"]) == ["A3", "A4"]


async def test_streams_of_two_shows_each_get_only_their_own_show(
    client: httpx.AsyncClient, http_base: str, make_show: MakeShow,
    access_token: Callable[..., str], services: Services,
) -> None:
    """Several open streams share the process's one subscription, yet a stream sees only its
    own show's changes; every stream of that show sees them. Once the fans close them, the
    subscription ends too."""
    first, second = await make_show(rows=1, seats_per_row=4), await make_show(rows=1,
                                                                             seats_per_row=4)
    tickets = [await ticket_for(client, first.id, access_token(first.id)) for _ in range(2)]
    tickets.append(await ticket_for(client, second.id, access_token(second.id)))
    shows = [first.id, first.id, second.id]
    async with httpx.AsyncClient(timeout=10) as http:
        streams = [http.stream("GET", f"{http_base}/api/v1/shows/{show}/seat-events",
                               params={"ticket": ticket}) for show, ticket in zip(
                                   shows, tickets, strict=True)]
        responses = [await stream.__aenter__() for stream in streams]
        try:
            readers = [EventReader(response) for response in responses]
            for reader in readers:
                assert (await reader.next())[0] == "ready"
            locked = await client.post(
                "/api/v1/bookings/lock", headers=bearer(access_token(second.id)),
                json={"showId": second.id, "seatIds": ["A2"]})
            assert locked.status_code == 200, locked.text
            locked = await client.post(
                "/api/v1/bookings/lock", headers=bearer(access_token(first.id)),
                json={"showId": first.id, "seatIds": ["A1"]})
            assert locked.status_code == 200, locked.text
            for reader, show in zip(readers, shows, strict=True):
                event, data = await reader.next(2.0)
                assert event == "seats"
                assert data["showId"] == show
                assert data["seatIds"] == (["A1"] if show == first.id else ["A2"])
            hub = services.seat_hub
            assert isinstance(hub, SeatEventHub)
            assert hub.listener_count == 3
        finally:
            for stream in streams:
                await stream.__aexit__(None, None, None)
    for _ in range(60):  # the server notices the closed connections within moments
        if not hub.listener_count and not hub.running:
            break
        await asyncio.sleep(0.05)
    assert hub.listener_count == 0
    assert not hub.running


@pytest.mark.parametrize("ticket", ["", "short", "x" * 30, "bad ticket with spaces!!!!!"])
async def test_the_stream_refuses_a_missing_or_unknown_ticket(
    client: httpx.AsyncClient, make_show: MakeShow, ticket: str,
) -> None:
    """Without a ticket the exchange handed out, the stream answers 401 before streaming."""
    show = await make_show(rows=1, seats_per_row=2)
    response = await client.get(f"/api/v1/shows/{show.id}/seat-events",
                                params={"ticket": ticket} if ticket else None)
    assert response.status_code == 401
    assert response.json()["error"] == "TOKEN_INVALID"


async def test_a_ticket_opens_only_the_show_it_was_issued_for(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """A ticket of one show does not open another show's stream."""
    first, second = await make_show(rows=1, seats_per_row=2), await make_show(rows=1,
                                                                             seats_per_row=2)
    ticket = await ticket_for(client, first.id, access_token(first.id))
    response = await client.get(f"/api/v1/shows/{second.id}/seat-events",
                                params={"ticket": ticket})
    assert response.status_code == 401


async def test_a_ticket_needs_an_access_token_of_that_show(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """The exchange answers 401 without a valid token and 403 for another show's token, and
    stores nothing."""
    first, second = await make_show(rows=1, seats_per_row=2), await make_show(rows=1,
                                                                             seats_per_row=2)
    path = f"/api/v1/shows/{first.id}/seat-events/ticket"
    missing = await client.post(path)
    forged = await client.post(path, headers=bearer("not.a.token"))
    foreign = await client.post(path, headers=bearer(access_token(second.id)))
    assert (missing.status_code, forged.status_code, foreign.status_code) == (401, 401, 403)
    assert foreign.json()["error"] == "TOKEN_WRONG_SHOW"
    assert await services.redis.keys("bc:*stream-ticket*") == []


async def test_the_stream_answers_503_when_redis_is_down(
    services: Services, settings: Settings, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """With Redis unreachable the ticket exchange answers 503 with Retry-After (the page then
    polls the seat map), never 500."""
    show = await make_show(rows=1, seats_per_row=2)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    dead = Redis.from_url(f"redis://127.0.0.1:{closed_port}/0", socket_connect_timeout=0.2)
    original = services.stream_tickets.redis
    services.stream_tickets.redis = dead
    try:
        app = create_app(settings, services=services)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:
            response = await http.post(f"/api/v1/shows/{show.id}/seat-events/ticket",
                                       headers=bearer(access_token(show.id)))
    finally:
        services.stream_tickets.redis = original
        await dead.aclose()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.json()["error"] == "SERVICE_TEMPORARILY_UNAVAILABLE"
