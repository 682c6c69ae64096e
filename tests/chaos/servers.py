"""Private servers the chaos tests kill and restart: never the shared ones.

Each chaos test starts its own ``redis-server`` or PostgreSQL on a loopback port from
``ADMITONE_TEST_PORT_BASE + 400`` on (``tests/topologies.py`` uses the ports below that), with
its data in a temporary folder, and kills only the process it started, by its pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests import topologies

BASE = int(os.environ.get("ADMITONE_TEST_PORT_BASE", "17000")) + 400
PORTS = {
    "redis_surge": BASE, "redis_lost": BASE + 1, "redis_scheduler": BASE + 2,
    "redis_webhooks": BASE + 3, "redis_checkout": BASE + 4, "postgres_checkout": BASE + 10,
}


def _skip_unless_free(port: int) -> None:
    if not topologies._port_free(port):
        pytest.skip(f"loopback port {port} is in use (a server left from an earlier run?)")


class PrivateRedis:
    """A redis-server of the test's own: ``kill()`` is SIGKILL (a crash), ``start()`` again
    serves the same folder (with ``appendonly`` it comes back with its data)."""

    def __init__(self, port: int, folder: Path, *, appendonly: bool) -> None:
        self.port = port
        self.folder = folder
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.appendonly
                       else ["--appendonly", "no"])
        self.process = subprocess.Popen(  # noqa: S603 - the machine's redis-server, loopback
            [topologies.redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--save", "", *persistence,
             "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        topologies._wait(lambda: "PONG" in topologies._cli(self.port, "ping"),
                         f"redis-server on port {self.port}", seconds=20)

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: nothing is flushed."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


@contextmanager
def private_redis(name: str, *, appendonly: bool) -> Iterator[PrivateRedis]:
    port = PORTS[name]
    _skip_unless_free(port)
    try:
        topologies.redis_server_binary()
    except topologies.UnavailableError as exc:
        pytest.skip(str(exc))
    folder = Path(tempfile.mkdtemp(prefix=f"admitone-chaos-{name}-"))
    server = PrivateRedis(port, folder, appendonly=appendonly)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL 15 cluster of the test's own; ``crash_restart()`` stops it with
    ``-m immediate`` (no checkpoint, every connection cut, as a crash) and starts it again."""

    def __init__(self, port: int, root: Path) -> None:
        self.port = port
        self.root = root
        self.data = root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        topologies._run(str(topologies.PG_BIN / "pg_ctl"), "-D", str(self.data),
                        *args)

    def init(self) -> None:
        topologies._run(str(topologies.PG_BIN / "initdb"), "-D", str(self.data),
                        "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.root}'\nfsync = off\n"
                       "synchronous_commit = on\nfull_page_writes = off\n"
                       "max_connections = 60\n")

    def start(self) -> None:
        self._pg_ctl("-l", str(self.root / "postgres.log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "-t", "30", "stop")

    def crash_restart(self, down_seconds: float) -> None:
        self.stop("immediate")
        time.sleep(down_seconds)
        self.start()


@contextmanager
def private_postgres(name: str) -> Iterator[PrivatePostgres]:
    port = PORTS[name]
    _skip_unless_free(port)
    if not (topologies.PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 server binaries are not in {topologies.PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix=f"admitone-chaos-{name}-"))
    root.chmod(0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PrivatePostgres(port, root)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with suppress(RuntimeError):
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
