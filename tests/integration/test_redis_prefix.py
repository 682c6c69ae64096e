"""Two admitone deployments on one Redis database (each with its own PostgreSQL database) keep
their rooms and scheduler leases apart through the key prefix (``ADMITONE_REDIS_PREFIX``,
by default the database's name). Runs on a single Redis and on a Redis Cluster."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest

from admitone.db.migrate import migrate
from admitone.queue import keys
from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow, create_show
from tests.integration.queue_support import app_client, join, put_room, scheduler_for


@pytest.fixture(scope="module")
async def other_database(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    """A second migrated database on the same server: the other deployment's."""
    server = server_urls[0]
    name = f"admitone_other_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield url
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def other(
    make_settings: Callable[..., Settings], other_database: str
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    async with app_client(make_settings(database_url=other_database)) as pair:
        yield pair


async def _admit_all(services: Services, show_id: str, fans: int) -> set[str]:
    """Run this deployment's own scheduler for a few seconds; whom it admitted."""
    scheduler = scheduler_for(services)
    admitted: set[str] = set()
    for _ in range(8):
        await scheduler.refresh()
        result = (await scheduler.step()).get(show_id)
        if result is not None:
            admitted.update(result.admitted)
        if len(admitted) >= fans:
            break
        await asyncio.sleep(0.6)
    await scheduler.lease.release()
    return admitted


def test_the_prefix_defaults_to_the_database_name(make_settings: Callable[..., Settings]) -> None:
    """Without ADMITONE_REDIS_PREFIX the prefix is the database's name; with it, the value."""
    assert make_settings(database_url="postgresql://db/tickets_eu").redis_key_prefix == "tickets_eu"
    assert make_settings(redis_prefix="blue").redis_key_prefix == "blue"
    assert keys.state_key("blue", "s1") == "blue:wr:{show:s1}:state"  # the tag stays whole


async def test_two_deployments_on_one_redis_both_admit_their_own_fans(
    services: Services, client: httpx.AsyncClient, make_show: MakeShow,
    other: tuple[Services, httpx.AsyncClient],
) -> None:
    """Each deployment's scheduler holds its own lease and admits its own room's fans, where a
    shared lease used to leave one of them admitting nobody."""
    other_services, other_client = other
    assert services.settings.redis_key_prefix != other_services.settings.redis_key_prefix
    shows = [await make_show(), await create_show(other_services)]
    pairs = [(services, client), (other_services, other_client)]
    for (_, http), show in zip(pairs, shows, strict=True):
        await put_room(http, show.id, releaseRatePerMinute=6000, maxActive=100)
        for _ in range(5):
            assert (await join(http, show.id)).status_code == 200
    admitted = await asyncio.gather(*(
        _admit_all(deployment, show.id, 5)
        for (deployment, _), show in zip(pairs, shows, strict=True)
    ))
    assert [len(fans) for fans in admitted] == [5, 5]
    fences = [
        await deployment.redis.get(keys.fence_key(deployment.settings.redis_key_prefix))
        for deployment, _ in pairs
    ]
    assert all(fence is not None for fence in fences)  # two leases, one per deployment
