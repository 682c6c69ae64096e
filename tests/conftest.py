"""Shared fixtures: real PostgreSQL and Redis, a fresh database per test session.

``ADMITONE_TEST_DATABASE_URL`` names a server (any database on it; the suite creates its own
database there and drops it afterwards) and ``ADMITONE_TEST_REDIS_URL`` a Redis database the
suite may flush. With either unset, the suite starts embedded servers of its own.

The queue and admission modules (``CLUSTER_MODULES``) run twice: on that Redis and on a real
3-master Redis Cluster the suite starts on loopback ports (``tests/topologies.py``); their test
ids end in ``[single]`` and ``[cluster]``.
"""

from __future__ import annotations

import http.cookiejar
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar

from admitone.booking_core.models import (
    LayoutIn,
    MovieIn,
    RowIn,
    ScreenIn,
    ShowIn,
    TheaterIn,
)
from admitone.db.migrate import migrate
from admitone.gateway.app import create_app
from admitone.gateway.device import DEVICE_COOKIE
from admitone.redis_client import RedisClient, create_redis
from admitone.runtime import Services, open_services
from admitone.settings import Settings, load_settings
from tests import topologies

# Run in their own process by tests/integration/test_loadtests.py (gevent; see there).
collect_ignore = ["loadtest_checks"]

# Modules whose tests run on a single Redis and again on a Redis Cluster.
CLUSTER_MODULES = frozenset({
    "test_queue_api", "test_queue_admission", "test_queue_operator", "test_queue_tokens",
    "test_seat_stream", "test_redis_prefix", "test_queue_pipelining",
})

OPERATOR_TOKEN = "operator-token-for-tests-0123456789"
WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789"


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def embedded_dir() -> Iterator[Path]:
    """A folder for embedded servers that the ``postgres`` user can reach when we run as root
    (pytest's own temp folders are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="admitone-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server_url(embedded_dir: Path) -> Iterator[str]:
    """The suite's Redis: ``ADMITONE_TEST_REDIS_URL``, else an embedded server (without
    starting PostgreSQL, for the tests that need only Redis)."""
    url = os.environ.get("ADMITONE_TEST_REDIS_URL")
    if url:
        yield url
        return
    from admitone.embedded import EmbeddedRedis

    with EmbeddedRedis(embedded_dir) as embedded:
        yield embedded


@pytest.fixture(scope="session")
def server_urls(embedded_dir: Path, redis_server_url: str) -> Iterator[tuple[str, str]]:
    """(PostgreSQL server URL, Redis URL): from the environment, else embedded servers."""
    database = os.environ.get("ADMITONE_TEST_DATABASE_URL")
    with ExitStack() as stack:
        if not database:
            from admitone.embedded import EmbeddedPostgres

            database = stack.enter_context(EmbeddedPostgres(embedded_dir))
        yield database, redis_server_url


@pytest.fixture(scope="session")
async def database_url(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    """A fresh, migrated database for this test session, dropped at the end."""
    server = server_urls[0]
    name = f"admitone_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield url
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run ``CLUSTER_MODULES`` on both Redis shapes (see the module docstring)."""
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module in CLUSTER_MODULES and "redis_shape" in metafunc.fixturenames:
        metafunc.parametrize("redis_shape", ["single", "cluster"], indirect=True, scope="session")


@pytest.fixture(scope="session")
def redis_shape(request: pytest.FixtureRequest) -> str:
    """``single`` (the default everywhere) or ``cluster``."""
    return str(getattr(request, "param", "single"))


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """A real 3-master Redis Cluster for this session (``redis+cluster://…``)."""
    try:
        with topologies.redis_cluster() as url:
            yield url
    except topologies.UnavailableError as exc:
        pytest.skip(f"no Redis Cluster: {exc}")


@pytest.fixture(scope="session")
def redis_url(server_urls: tuple[str, str], redis_shape: str, request: pytest.FixtureRequest) -> str:
    if redis_shape == "cluster":
        return str(request.getfixturevalue("redis_cluster_url"))
    return server_urls[1]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def make_settings(database_url: str, redis_url: str, data_dir: Path) -> Callable[..., Settings]:
    """Settings for tests; keyword arguments override single fields."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": redis_url,
            "data_dir": data_dir,
            "operator_token": OPERATOR_TOKEN,
            "payment_webhook_secret": WEBHOOK_SECRET,
            "background_jobs": False,
            "log_format": "console",
            "log_level": "warning",
            "public_url": "http://admitone.test",
            "sandbox_payments": True,  # the tests pay through the sandbox (a development mode)
        }
        values.update(overrides)
        return load_settings({}, **values)

    return make


@pytest.fixture(scope="session")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings) as built:
        yield built


@pytest.fixture(scope="session")
def app(settings: Settings, services: Services) -> Litestar:
    return create_app(settings, services=services)


class _NoDeviceCookie(http.cookiejar.DefaultCookiePolicy):
    """The session's client is one cookie jar for every test: it must not carry one device
    id from a page of one test into the locks of the next (the device seat limit would count
    them all). Tests of the device cookie use a client of their own."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return cookie.name != DEVICE_COOKIE and super().set_ok(cookie, request)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the app in this event loop (the services' pool lives here too)."""
    transport = httpx.ASGITransport(app=app)
    jar = http.cookiejar.CookieJar(policy=_NoDeviceCookie())
    async with httpx.AsyncClient(transport=transport, base_url="http://admitone.test",
                                 cookies=jar) as http_client:
        yield http_client


@pytest.fixture(autouse=True)
async def clean_redis(request: pytest.FixtureRequest) -> None:
    """Each test starts on an empty Redis database of the suite's own."""
    if "redis_url" not in request.fixturenames and "services" not in request.fixturenames:
        return
    url = request.getfixturevalue("redis_url")
    redis = create_redis(url)  # FLUSHDB on a cluster goes to every master
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[RedisClient]:
    """A client on the suite's Redis database (flushed before the test, and after it)."""
    client = create_redis(redis_url)
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
def operator_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@dataclass(frozen=True)
class ShowFixture:
    id: str
    movie_id: str
    theater_id: str
    screen_id: str
    seat_ids: list[str]


MakeShow = Callable[..., Awaitable[ShowFixture]]


@pytest.fixture
def make_show(services: Services) -> MakeShow:
    """Create a movie, theater, screen and show; rows of ``seats_per_row`` seats each."""
    return lambda *args, **kwargs: create_show(services, *args, **kwargs)


async def create_show(
    services: Services,
    rows: int = 2,
    seats_per_row: int = 10,
    *,
    starts_in: timedelta = timedelta(days=3),
    base_price: str = "200.00",
    max_seats_per_visitor: int | None = None,
    city: str = "Mumbai",
    title: str | None = None,
    row_types: dict[str, tuple[str, str]] | None = None,
) -> ShowFixture:
    catalog = services.catalog
    movie = await catalog.create_movie(
        MovieIn(
            title=title or f"Test Movie {uuid.uuid4().hex[:6]}",
            duration_minutes=120,
            language="Hindi",
            genre="Drama",
        )
    )
    theater = await catalog.create_theater(
        TheaterIn(name="Test Theater", city=city, address="1 Test Road")
    )
    row_names = [chr(ord("A") + i) for i in range(rows)]
    types = row_types or {}
    layout = LayoutIn(
        rows=[
            RowIn(
                name=name,
                seats=seats_per_row,
                seat_type=types.get(name, ("REGULAR", "1.00"))[0],
                price_multiplier=Decimal(types.get(name, ("REGULAR", "1.00"))[1]),
            )
            for name in row_names
        ]
    )
    screen = await catalog.create_screen(theater.id, ScreenIn(name="Screen 1", layout=layout))
    show = await catalog.create_show(
        ShowIn(
            movie_id=movie.id,
            screen_id=screen.id,
            show_time=datetime.now(UTC) + starts_in,
            base_price=Decimal(base_price),
            currency="INR",
            max_seats_per_visitor=max_seats_per_visitor,
        )
    )
    seat_ids = [f"{name}{n}" for name in row_names for n in range(1, seats_per_row + 1)]
    return ShowFixture(show.id, movie.id, theater.id, screen.id, seat_ids)


@pytest.fixture
def access_token(services: Services) -> Callable[..., str]:
    """Mint an access token as the admission scheduler would (``visitor`` defaults to new)."""

    def mint(show_id: str, visitor: str | None = None, ttl_seconds: int = 900) -> str:
        return services.tokens.issue_access_token(
            show_id=show_id,
            visitor_id=visitor or f"v-{uuid.uuid4().hex}",
            expires_at=int(time.time()) + ttl_seconds,
        )

    return mint


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def expire_lock(services: Services, lock_id: str) -> None:
    """Move a lock's expiry into the past, as if its time had run out (the sweeper has not run)."""
    lock = uuid.UUID(lock_id)
    async with services.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE show_seats SET locked_until = clock_timestamp() - interval '1 second'"
            " WHERE lock_id = $1",
            lock,
        )
        await conn.execute(
            "UPDATE seat_locks SET expires_at = clock_timestamp() - interval '1 second'"
            " WHERE id = $1",
            lock,
        )


async def seat_states(services: Services, show_id: str) -> dict[str, str]:
    rows = await services.pool.fetch(
        "SELECT seat_id, status FROM show_seats WHERE show_id = $1", uuid.UUID(show_id)
    )
    return {row["seat_id"]: row["status"] for row in rows}
