"""What fans are told while a dependency is down, and which dependency the log names."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest
from structlog.testing import capture_logs

from admitone.gateway.app import create_app
from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow
from tests.integration.queue_support import app_client, join, put_room


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
async def no_redis(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    async with app_client(make_settings(redis_url=f"redis://127.0.0.1:{_closed_port()}/0")) as pair:
        yield pair


async def test_a_show_without_a_room_is_not_called_closed_while_redis_is_down(
    no_redis: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """Redis down, a show on sale without a waiting room: joining answers 503 with Retry-After
    (retry shortly), not 404 WAITING_ROOM_NOT_FOUND (this show is closed); the log names Redis."""
    _, down = no_redis
    show = await make_show()
    with capture_logs() as logs:
        response = await join(down, show.id)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"] == "SERVICE_TEMPORARILY_UNAVAILABLE"
    assert response.json()["dependency"] == "Redis"
    logged = [e for e in logs if e["event"] == "dependency_unavailable"]
    assert logged
    assert logged[-1]["dependency"] == "Redis"


async def test_an_unknown_show_is_still_not_found_while_redis_is_down(
    no_redis: tuple[Services, httpx.AsyncClient],
) -> None:
    _, down = no_redis
    response = await join(down, str(uuid.uuid4()))
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "WAITING_ROOM_NOT_FOUND"


async def test_a_fail_closed_room_logs_redis_as_the_dependency(
    client: httpx.AsyncClient, no_redis: tuple[Services, httpx.AsyncClient], make_show: MakeShow
) -> None:
    """QUEUE_UNAVAILABLE keeps its answer; the log line says Redis was the one down."""
    _, down = no_redis
    show = await make_show()
    await put_room(client, show.id)
    with capture_logs() as logs:
        response = await join(down, show.id)
    assert response.status_code == 503
    assert response.json()["error"] == "QUEUE_UNAVAILABLE"
    logged = [e for e in logs if e["event"] == "dependency_unavailable"]
    assert logged
    assert logged[-1]["dependency"] == "Redis"


async def test_a_postgresql_refusal_is_logged_as_postgresql(
    services: Services, settings: Settings, client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """PostgreSQL refuses while Redis answers but has lost the room: the room cannot be
    restored, the answer is a 503 naming PostgreSQL, and so is the log line."""
    show = await make_show()
    await put_room(client, show.id)
    await services.redis.delete(*[k async for k in services.redis.scan_iter(f"*{show.id}*")])
    dead = await asyncpg.create_pool(f"postgresql://nobody@127.0.0.1:{_closed_port()}/x",
                                     min_size=0)
    assert dead is not None
    repository = services.admission.settings.repository
    original = repository.pool
    repository.pool = dead
    try:
        app = create_app(settings, services=services)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:
            with capture_logs() as logs:
                response = await join(http, show.id)
    finally:
        repository.pool = original
        await dead.close()
    assert response.status_code == 503, response.text
    assert response.json()["dependency"] == "PostgreSQL"
    logged = [e for e in logs if e["event"] == "dependency_unavailable"]
    assert logged
    assert logged[-1]["dependency"] == "PostgreSQL"
    assert "Redis" not in repr([e for e in logs if e.get("log_level") == "warning"])
