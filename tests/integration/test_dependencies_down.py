"""When PostgreSQL or Redis stops answering, requests get 503 problems with Retry-After, never 500."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import asyncpg
import httpx

from admitone.gateway.app import create_app
from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_postgres_down_answers_503_with_retry_after(
    services: Services,
    settings: Settings,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Booking routes answer 503 SERVICE_TEMPORARILY_UNAVAILABLE with Retry-After; readyz says
    which dependency is down."""
    show = await make_show(rows=1, seats_per_row=4)
    dead_pool = await asyncpg.create_pool(
        f"postgresql://nobody@127.0.0.1:{_closed_port()}/x", min_size=0
    )
    assert dead_pool is not None
    original = services.seats.repository.pool
    services.seats.repository.pool = dead_pool
    services_pool = services.pool
    services.pool = dead_pool
    try:
        app = create_app(settings, services=services)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            token = access_token(show.id)
            await services.redis.flushdb()  # no cached seat map to hide the outage
            for response in [
                await client.post(
                    "/api/v1/bookings/lock",
                    json={"showId": show.id, "seatIds": ["A1"]},
                    headers=bearer(token),
                ),
                await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(token)),
            ]:
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"]
                assert response.json()["error"] == "SERVICE_TEMPORARILY_UNAVAILABLE"
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["down"] == ["postgres"]
    finally:
        services.seats.repository.pool = original
        services.pool = services_pool
        await dead_pool.close()


async def test_redis_down_does_not_stop_locks(
    services: Services,
    settings: Settings,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Redis is only a cache for seats: with it down, seat maps and locks still work from PostgreSQL."""
    from redis.asyncio import Redis

    show = await make_show(rows=1, seats_per_row=4)
    dead = Redis.from_url(f"redis://127.0.0.1:{_closed_port()}/0", socket_connect_timeout=0.2)
    original = services.seat_events.redis
    services.seat_events.redis = dead
    try:
        app = create_app(settings, services=services)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            token = access_token(show.id)
            started = time.monotonic()
            seats = await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(token))
            assert seats.status_code == 200
            locked = await client.post(
                "/api/v1/bookings/lock",
                json={"showId": show.id, "seatIds": ["A1"]},
                headers=bearer(token),
            )
            assert locked.status_code == 200, locked.text
            assert time.monotonic() - started < 5
    finally:
        services.seat_events.redis = original
        await dead.aclose()
