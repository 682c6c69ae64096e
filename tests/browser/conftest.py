"""Browser tests: a real admitone HTTP server in a subprocess and headless Chromium (Playwright).

``live_server`` runs uvicorn on a free 127.0.0.1 port against the session's database, the
suite's Redis and the session's data folder (so tokens minted by either side verify on the
other), with the background jobs on so the admission scheduler admits. ``browser`` is one
Chromium for the session; ``open_page`` gives each test fresh contexts (storage, cookies).
Every test here skips cleanly when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis as redis_sync

from tests.conftest import OPERATOR_TOKEN, WEBHOOK_SECRET

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


# A page test waits on a real server, Chromium and sometimes axe: on a loaded machine the
# slowest (test_pages.py's axe pass over every page) takes well over a minute.
BROWSER_TIMEOUT_SECONDS = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives Chromium: mark it (with a longer timeout than the
    suite's), and skip it without Chromium."""
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.timeout(BROWSER_TIMEOUT_SECONDS))
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A running admitone server and the operator calls tests set shows up with."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def client(self, **headers: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=15)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def create_show(self, title: str | None = None, *, starts_in: timedelta = timedelta(
            days=2)) -> str:
        """A movie, a theater, a screen of 2 x 10 seats and a show; the show's id."""
        async with self.client(**OPERATOR) as http:
            movie = await http.post("/api/v1/admin/movies", json={
                "title": title or f"Browser Test {uuid.uuid4().hex[:6]}", "durationMinutes": 150,
                "language": "Hindi", "genre": "Drama"})
            assert movie.status_code == 201, movie.text
            theater = await http.post("/api/v1/admin/theaters", json={
                "name": "Regal Cinema", "city": "Mumbai", "address": "Colaba Causeway"})
            assert theater.status_code == 201, theater.text
            screen = await http.post(
                f"/api/v1/admin/theaters/{theater.json()['id']}/screens",
                json={"name": "Screen 1", "layout": {"rows": [
                    {"name": row, "seats": 10, "seatType": "REGULAR", "priceMultiplier": "1.00"}
                    for row in "AB"]}})
            assert screen.status_code == 201, screen.text
            when = (datetime.now(UTC) + starts_in).replace(second=0, microsecond=0)
            show = await http.post("/api/v1/admin/shows", json={
                "movieId": movie.json()["id"], "screenId": screen.json()["id"],
                "showTime": when.isoformat(), "basePrice": "250.00", "currency": "INR"})
            assert show.status_code == 201, show.text
            show_id: str = show.json()["id"]
            return show_id

    async def put_room(self, show_id: str, **fields: Any) -> dict[str, Any]:
        """PUT the show's waiting room: FIFO, 60 a minute, unless ``fields`` say otherwise."""
        body = {"enabled": True, "releaseRatePerMinute": 60, "maxActive": 1000,
                "sessionSeconds": 600, "queueMode": "FIFO", **fields}
        async with self.client(**OPERATOR) as http:
            response = await http.put(f"/api/v1/admin/shows/{show_id}/waiting-room", json=body)
        assert response.status_code == 200, response.text
        room: dict[str, Any] = response.json()
        return room

    async def patch_room(self, show_id: str, **fields: Any) -> dict[str, Any]:
        async with self.client(**OPERATOR) as http:
            response = await http.patch(f"/api/v1/admin/shows/{show_id}/waiting-room",
                                        json=fields)
        assert response.status_code == 200, response.text
        room: dict[str, Any] = response.json()
        return room

    async def join_fans(self, show_id: str, count: int) -> list[str]:
        """``count`` fans join over HTTP, one after another (in ticket order); their tokens."""
        tokens = []
        async with self.client() as http:
            for number in range(count):
                response = await http.post(f"/api/v1/queue/{show_id}/join",
                                           headers={"User-Agent": f"test-fan-{number}"})
                assert response.status_code == 200, response.text
                tokens.append(response.json()["token"])
        return tokens

    async def progress(self, show_id: str) -> dict[str, Any]:
        async with self.client() as http:
            response = await http.get(f"/api/v1/queue/{show_id}/progress")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


def start_server(env_overrides: dict[str, str], log_path: Path) -> LiveServer:
    """Start uvicorn with admitone's app factory; wait until /healthz answers."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ADMITONE_HOST": "127.0.0.1", "ADMITONE_PORT": str(port),
           "ADMITONE_PUBLIC_URL": base_url, "ADMITONE_SANDBOX_PAYMENTS": "1", **env_overrides}
    log = log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "uvicorn", "admitone.gateway.app:app_from_env", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--timeout-graceful-shutdown", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    server = LiveServer(base_url, process, log_path, env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the test server exited:\n{server.log_tail()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"the test server did not start:\n{server.log_tail()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


def _neighbour_db(redis_url: str) -> str:
    """The same Redis server, the database numbered one below (15 → 14, 0 → 15)."""
    parts = urlsplit(redis_url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number - 1) % 16}"))


@pytest.fixture(scope="session")
def server_redis_url(redis_url: str) -> str:
    """The live server's own Redis database, flushed once: its scheduler ticks in the background
    and must not share state with tests that flush theirs before every test."""
    url = _neighbour_db(redis_url)
    client = redis_sync.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def server_env(database_url: str, server_redis_url: str, data_dir: Path) -> dict[str, str]:
    """The settings of the test server, as its environment."""
    return {
        "ADMITONE_DATABASE_URL": database_url,
        "ADMITONE_REDIS_URL": server_redis_url,
        "ADMITONE_DATA_DIR": str(data_dir),
        "ADMITONE_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "ADMITONE_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ADMITONE_BACKGROUND_JOBS": "1",
        "ADMITONE_LOG_FORMAT": "console",
        "ADMITONE_LOG_LEVEL": "warning",
        # Every fan of a browser test comes from 127.0.0.1: the per-IP join limit must not bite.
        "ADMITONE_QUEUE_JOIN_RATE_PER_SECOND": "1000",
        "ADMITONE_QUEUE_JOIN_BURST": "10000",
    }


@pytest.fixture(scope="package")
def live_server(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveServer]:
    """admitone over real HTTP for the browser tests (stopped when they are done)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    server = start_server(server_env, tmp_path_factory.mktemp("server") / "server.log")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the session."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat before any browser
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                    args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


OpenPage = Callable[..., Awaitable[Any]]


@pytest.fixture
async def open_page(browser: Any) -> AsyncIterator[OpenPage]:
    """``await open_page(viewport=DESKTOP, language="en-IN", javascript=True)``: a page in a
    fresh context (its own storage and cookies), closed after the test. Script errors fail
    the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    async def open_one(*, viewport: dict[str, int] | None = None, language: str = "en-IN",
                       javascript: bool = True, reduced_motion: bool = True) -> Any:
        first_language = re.split(r"[,;]", language, maxsplit=1)[0]
        context = await browser.new_context(
            viewport=viewport or DESKTOP, locale=first_language,
            java_script_enabled=javascript,
            extra_http_headers={"Accept-Language": language}, bypass_csp=True,
            reduced_motion="reduce" if reduced_motion else "no-preference",
        )
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_one
    for context in contexts:
        await context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    """axe-core's browser build, installed with npm into a temporary folder (skip without npm)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    folder = tmp_path_factory.mktemp("axe")
    try:
        subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments
            [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--silent",
             "axe-core@4"],
            check=True, capture_output=True, timeout=180,
            cwd=tempfile.gettempdir(),
        )
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"npm could not install axe-core: {exc}")
    return (folder / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


async def wait_until(check: Callable[[], Awaitable[bool]], timeout_seconds: float,
                     interval_seconds: float = 0.25) -> bool:
    """Poll ``check`` until it holds or the time is up; whether it held."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(interval_seconds)
    return await check()
