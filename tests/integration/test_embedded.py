"""Embedded PostgreSQL and Redis: real servers started, used, restarted and stopped."""

# ruff: noqa: S603  # the tests run this interpreter on scripts written here

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis

from admitone.embedded import EmbeddedError, EmbeddedPostgres, EmbeddedRedis

REPO = Path(__file__).resolve().parents[2]
IS_ROOT = os.geteuid() == 0


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data folder the `postgres` user can reach when the tests run as root.

    pytest's own tmp_path lives under /tmp/pytest-of-<user>, which pytest makes 0700: as root,
    the `postgres` user could not reach a cluster there.
    """
    folder = Path(tempfile.mkdtemp(prefix="admitone-embedded-"))
    folder.chmod(0o755)
    yield folder / "data"
    shutil.rmtree(folder, ignore_errors=True)


def port_of(url: str) -> int:
    """The port of a server URL."""
    port = urlsplit(url).port
    assert port is not None
    return port


def refuses(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:port any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except OSError:
        return True
    return False


def run_child(data_dir: Path, body: str) -> subprocess.Popen[str]:
    """Start a Python child in its own session that starts both servers and runs `body`."""
    script = textwrap.dedent("""
        import asyncio, os, sys, time
        from pathlib import Path
        import asyncpg, redis
        from admitone.embedded import EmbeddedPostgres, EmbeddedRedis
        pg, rd = EmbeddedPostgres(Path(sys.argv[1])), EmbeddedRedis(Path(sys.argv[1]))
        print(pg.start(), rd.start(), flush=True)
    """) + textwrap.dedent(body)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


async def test_postgres_start_reuse_and_stop(data_dir: Path) -> None:
    """A cluster is created once, serves asyncpg, keeps its tables across restarts."""
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    assert url.startswith("postgresql://admitone@127.0.0.1:")
    assert url.endswith("/admitone")
    assert server.start() == url  # idempotent
    conn = await asyncpg.connect(url)
    assert await conn.fetchval("SELECT 1") == 1
    await conn.execute("CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (7)")
    await conn.close()
    server.stop()
    assert refuses(port_of(url))
    server.stop()  # twice is harmless

    with EmbeddedPostgres(data_dir) as again:
        conn = await asyncpg.connect(again)
        assert await conn.fetchval("SELECT id FROM kept") == 7
        assert await conn.fetchval("SHOW server_encoding") == "UTF8"
        await conn.close()
    assert refuses(port_of(again))


def test_redis_ping_set_get_eval_and_stop(data_dir: Path) -> None:
    """Redis answers PING, SET/GET and a Lua EVAL; after stop its port refuses connections."""
    server = EmbeddedRedis(data_dir)
    url = server.start()
    assert url.startswith("redis://127.0.0.1:")
    assert url.endswith("/0")
    client = redis.Redis.from_url(url)
    assert client.ping()
    assert client.set("k", "v")
    assert client.get("k") == b"v"
    assert client.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "n", 5) == 5
    client.close()
    server.stop()
    assert refuses(port_of(url))
    server.stop()  # twice is harmless


def test_ctrl_c_does_not_reach_the_servers(data_dir: Path) -> None:
    """SIGINT to the parent's process group leaves both servers up until the atexit stop."""
    child = run_child(
        data_dir,
        """
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            time.sleep(0.5)  # a server that got the SIGINT too would be shutting down by now
            async def check():
                conn = await asyncpg.connect(pg.start())
                return await conn.fetchval("SELECT 1")
            print("pg", asyncio.run(check()), "redis", redis.Redis.from_url(rd.start()).ping())
    """,
    )  # no stop(): the atexit hook stops both
    assert child.stdout is not None
    pg_url, redis_url = child.stdout.readline().split()
    os.killpg(child.pid, signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert out.split() == ["pg", "1", "redis", "True"]
    assert child.returncode == 0
    assert refuses(port_of(pg_url))
    assert refuses(port_of(redis_url))


async def test_servers_left_by_a_killed_run_are_taken_over(data_dir: Path) -> None:
    """After a run dies without stopping anything, the next start restarts both cleanly."""
    child = run_child(
        data_dir,
        """
        async def make():
            conn = await asyncpg.connect(pg.start())
            await conn.execute("CREATE TABLE survivor (id int)")
        asyncio.run(make())
        os._exit(0)  # like SIGKILL: no atexit, both servers keep running
    """,
    )
    assert child.stdout is not None
    old_pg, old_redis = child.stdout.readline().split()
    assert child.wait(timeout=60) == 0
    child.stdout.close()
    assert not refuses(port_of(old_pg))
    assert not refuses(port_of(old_redis))

    with EmbeddedPostgres(data_dir) as pg_url, EmbeddedRedis(data_dir) as redis_url:
        conn = await asyncpg.connect(pg_url)
        assert await conn.fetchval("SELECT count(*) FROM survivor") == 0
        await conn.close()
        client = redis.Redis.from_url(redis_url)
        assert client.ping()
        client.close()
        if port_of(old_redis) != port_of(redis_url):
            assert refuses(port_of(old_redis))
        if port_of(old_pg) != port_of(pg_url):
            assert refuses(port_of(old_pg))


@pytest.mark.skipif(not IS_ROOT, reason="only root runs PostgreSQL as another user")
def test_folder_closed_to_postgres_user_is_one_clear_error(data_dir: Path) -> None:
    """As root, a data folder under a 0700 directory gives a one-line EmbeddedError."""
    closed = data_dir.parent / "closed"
    closed.mkdir(mode=0o700)
    with pytest.raises(EmbeddedError) as caught:
        EmbeddedPostgres(closed / "data").start()
    message = str(caught.value)
    assert "'postgres' user cannot reach" in message
    assert "ADMITONE_DATABASE_URL" in message
    assert "\n" not in message
    assert oct(closed.stat().st_mode & 0o777) == "0o700"  # nothing outside data_dir changed
