"""admitone on Redis Sentinel and on a PostgreSQL streaming replica, both started for the session
(``tests/topologies.py``): a fan joins and is admitted through Sentinel's master; catalog and
seat-map reads come from the replica while every lock is decided on the primary."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import httpx
import pytest

from admitone.db.migrate import migrate
from admitone.runtime import Services
from admitone.settings import Settings
from tests import topologies
from tests.conftest import create_show
from tests.integration.queue_support import app_client, join, put_room, status, tick


@pytest.fixture(scope="module")
def sentinel_url() -> Iterator[str]:
    try:
        with topologies.redis_sentinel() as url:
            yield url
    except topologies.UnavailableError as exc:
        pytest.skip(f"no Redis Sentinel: {exc}")


@pytest.fixture(scope="module")
def replicated_servers() -> Iterator[tuple[str, str]]:
    try:
        with topologies.postgres_with_replica() as urls:
            yield urls
    except topologies.UnavailableError as exc:
        pytest.skip(f"no PostgreSQL replica: {exc}")


async def test_a_fan_joins_and_is_admitted_through_sentinel(
    make_settings: Callable[..., Settings], sentinel_url: str
) -> None:
    """With ADMITONE_REDIS_URL=redis+sentinel://…/master the queue works as on one server."""
    async with app_client(make_settings(redis_url=sentinel_url)) as (services, http):
        await services.redis.flushdb()
        show = await create_show(services)
        await put_room(http, show.id, releaseRatePerMinute=6000, maxActive=10)
        token = (await join(http, show.id)).json()["token"]
        for _ in range(5):
            await tick(services, show.id)
            answer = (await status(http, show.id, token)).json()
            if answer.get("accessToken"):
                break
            await asyncio.sleep(0.5)
        assert answer["status"] == "ADMITTED"
        info = await services.redis.info("replication")
        assert info["role"] == "master"  # Sentinel handed out the master, not the replica


def _on(server: str, database: str) -> str:
    return server.rsplit("/", 1)[0] + f"/{database}"


def _token(services: Services, show_id: str) -> str:
    return services.tokens.issue_access_token(
        show_id=show_id, visitor_id=f"v-{secrets.token_hex(6)}", expires_at=int(time.time()) + 600
    )


async def _replayed(replica: asyncpg.Pool, primary: asyncpg.Pool) -> None:
    """Wait until the replica has replayed everything the primary has written so far (the
    insert position: the write position lags it while commits are not synchronous)."""
    target = await primary.fetchval("SELECT pg_current_wal_insert_lsn()")
    for _ in range(100):
        if await replica.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", target):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replica did not catch up")


@pytest.fixture(scope="module")
async def replicated(
    replicated_servers: tuple[str, str], make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """An app on the primary with ADMITONE_DATABASE_REPLICA_URL pointing at the replica."""
    primary_server, replica_server = replicated_servers
    name = f"admitone_repl_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(primary_server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(_on(primary_server, name))
    await migrate(conn)
    await conn.close()
    await admin.close()
    standby = await asyncpg.connect(replica_server)
    try:
        for _ in range(200):  # the replica replays CREATE DATABASE and the migrations
            if await standby.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                break
            await asyncio.sleep(0.05)
    finally:
        await standby.close()
    settings = make_settings(
        database_url=_on(primary_server, name), database_replica_url=_on(replica_server, name),
        redis_prefix="replicated", seat_map_cache_seconds=0.001,
    )
    async with app_client(settings) as pair:
        yield pair


async def test_catalog_and_seat_maps_are_read_from_the_replica_and_locks_on_the_primary(
    replicated: tuple[Services, httpx.AsyncClient],
) -> None:
    """While the replica's replay is paused, browsing and the seat map show the replica's older
    state; a lock still sees the primary's rows, so the seat a fan just took is refused to the
    next fan even though the (stale) map shows it free."""
    services, http = replicated
    assert services.replica_pool is not None
    assert await services.replica_pool.fetchval("SELECT pg_is_in_recovery()")
    show = await create_show(services)
    await _replayed(services.replica_pool, services.pool)
    await services.replica_pool.execute("SELECT pg_wal_replay_pause()")
    try:
        title = f"Only On The Primary {secrets.token_hex(3)}"
        await create_show(services, title=title)
        listing = (await http.get("/api/v1/movies", params={"q": title})).json()
        assert listing["movies"] == []  # served by the paused replica
        first, second = _token(services, show.id), _token(services, show.id)
        locked = await http.post("/api/v1/bookings/lock", json={"showId": show.id,
                                 "seatIds": ["A1"]}, headers={"Authorization": f"Bearer {first}"})
        assert locked.status_code == 200, locked.text
        seat_map = (await http.get(f"/api/v1/shows/{show.id}/seats",
                                   headers={"Authorization": f"Bearer {second}"})).json()
        assert {s["id"]: s["status"] for s in seat_map["seats"]}["A1"] == "AVAILABLE"  # stale
        again = await http.post("/api/v1/bookings/lock", json={"showId": show.id,
                                "seatIds": ["A1"]}, headers={"Authorization": f"Bearer {second}"})
        assert again.status_code == 409, again.text  # the primary decided
    finally:
        await services.replica_pool.execute("SELECT pg_wal_replay_resume()")
    await _replayed(services.replica_pool, services.pool)
    found = await services.catalog.list_movies(None, None, title)  # past the route's 5 s cache
    assert [movie.title for movie in found.movies] == [title]
