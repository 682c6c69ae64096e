"""The ``admitone`` command: ``up [--demo]``, ``serve``, ``jobs``, ``migrate``, ``keys rotate``.

``up`` is everything on one machine (embedded servers when no URLs are set, migrations, the
HTTP workers and the jobs). For containers the two halves run apart: ``serve`` is the HTTP
workers only (``ADMITONE_WORKERS`` of them, no background jobs, no migrations), ``jobs`` the
background jobs only; both need ``ADMITONE_DATABASE_URL`` and ``ADMITONE_REDIS_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack, ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from admitone.settings import (
    HANDED_OFF_FIELDS,
    HANDOFF_VARIABLE,
    Secret,
    Settings,
    SettingsError,
    env_name,
    load_settings,
    payments_refusal,
)


def _fail(message: str) -> int:
    print(f"admitone: {message}", file=sys.stderr)
    return 2


@contextmanager
def _servers(settings: Settings, *, need_redis: bool = True) -> Iterator[Settings]:
    """Settings with database and Redis URLs, starting embedded servers for the missing ones."""
    from admitone.embedded import EmbeddedPostgres, EmbeddedRedis  # noqa: PLC0415 - only when needed

    with ExitStack() as stack:
        database_url = settings.database_url
        redis_url = settings.redis_url
        if database_url is None:
            database_url = stack.enter_context(EmbeddedPostgres(settings.data_dir))
            print(f"embedded PostgreSQL: {database_url}")
        if redis_url is None and need_redis:
            redis_url = stack.enter_context(EmbeddedRedis(settings.data_dir))
            print(f"embedded Redis:      {redis_url}")
        yield msgspec.structs.replace(settings, database_url=database_url, redis_url=redis_url)


async def _migrate(database_url: str) -> list[str]:
    from admitone.db.migrate import migrate  # noqa: PLC0415 - keeps --help fast

    conn = await asyncpg.connect(database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def _prepare_data_dir(settings: Settings) -> Settings:
    """Create the data folder, the signing keys and the generated secrets."""
    from admitone.admission.signing_keys import KeyRing  # noqa: PLC0415
    from admitone.secrets_store import load_or_create_secret  # noqa: PLC0415

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    KeyRing.load(settings.data_dir / "keys")
    return msgspec.structs.replace(
        settings,
        operator_token=settings.operator_token
        or load_or_create_secret(settings.data_dir, "operator-token"),
        payment_webhook_secret=settings.payment_webhook_secret
        or load_or_create_secret(settings.data_dir, "payment-webhook-secret"),
    )


@contextmanager
def _worker_environment(settings: Settings) -> Iterator[None]:
    """Hand the resolved settings to the worker processes (uvicorn's, and ``jobs``): plain
    ones through the environment, the credentials (tokens, secrets, URLs that may hold a
    password) through a 0600 file in a private folder that is removed when this process ends,
    so they are not in every worker's /proc/<pid>/environ (README "Secrets of the workers").
    The file stays while this process runs: uvicorn starts a new worker when one dies."""
    plain = {
        "data_dir": str(settings.data_dir.resolve()),
        "log_format": settings.log_format,
        "public_url": settings.base_url,
        "sandbox_payments": "1" if settings.sandbox_payments else "0",
    }
    handed: dict[str, str] = {}
    for name in sorted(HANDED_OFF_FIELDS):
        value = getattr(settings, name)
        for variable in (env_name(name), f"{env_name(name)}_FILE"):
            os.environ.pop(variable, None)
        if value is not None:
            handed[env_name(name)] = value.reveal() if isinstance(value, Secret) else str(value)
    for name, value in plain.items():
        if value is not None:
            os.environ[env_name(name)] = value
    folder = Path(tempfile.mkdtemp(prefix="admitone-"))  # mode 0700
    path = folder / "settings.json"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(msgspec.json.encode(handed))
        os.environ[HANDOFF_VARIABLE] = str(path)
        yield
    finally:
        os.environ.pop(HANDOFF_VARIABLE, None)
        shutil.rmtree(folder, ignore_errors=True)


def _metrics_folder(settings: Settings) -> None:
    """Several worker processes share their metrics through files (prometheus_client's
    multiprocess mode); the folder starts empty on every start."""
    folder = settings.data_dir.resolve() / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def _port_taken(settings: Settings) -> str | None:
    """One line saying why the server cannot listen on its address, or None when it can.

    uvicorn, finding its port taken, exits from inside its own loop and leaves ``up`` waiting
    for ever on the embedded servers and the jobs; asking the socket first fails in a moment."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except OSError as exc:
        return f"cannot listen on {settings.host}:{settings.port}: {exc}"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {settings.port} on {settings.host} is in use"
            return f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
    return None


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


JOBS_STOP_SECONDS = 20.0


def _exit_later(seconds: float, code: int) -> None:
    """A hard exit with ``code`` if this process is still running ``seconds`` from now."""
    timer = threading.Timer(seconds, os._exit, args=(code,))
    timer.daemon = True
    timer.start()


def cmd_up(settings: Settings, demo: bool) -> int:
    from admitone.embedded import EmbeddedError  # noqa: PLC0415

    # uvicorn re-raises the signal that stopped it once it has shut down; turning SIGTERM into
    # SystemExit (as SIGINT is KeyboardInterrupt) lets the embedded servers stop cleanly after it.
    taken = _port_taken(settings)
    if taken:
        return _fail(taken)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if demo and not os.environ.get(env_name("log_format")):
        settings = msgspec.structs.replace(settings, log_format="console")
    if demo and not os.environ.get(env_name("sandbox_payments")):
        settings = msgspec.structs.replace(settings, sandbox_payments=True)
    if (refusal := payments_refusal(settings)) is not None:
        return _fail(refusal)
    try:
        with _servers(settings) as resolved:
            assert resolved.database_url is not None  # noqa: S101 - _servers sets both URLs
            applied = asyncio.run(_migrate(resolved.database_url))
            if applied:
                print(f"migrations applied: {', '.join(applied)}")
            ready = _prepare_data_dir(resolved)
            if demo:
                from admitone.demo import create_demo  # noqa: PLC0415

                show_id = asyncio.run(create_demo(ready))
                _print_demo(ready, show_id)
            print(f"admitone listening on {ready.base_url}  (Ctrl-C stops everything)")
            _serve_up(ready)
    except EmbeddedError as exc:
        return _fail(str(exc))
    except (OSError, asyncpg.PostgresError) as exc:
        return _fail(f"cannot start: {exc}")
    except (KeyboardInterrupt, SystemExit):
        print("admitone stopped")
    return 0



def _serve_up(ready: Settings) -> None:
    """``up``'s HTTP workers, on the chosen server, with the jobs in a process beside them."""
    import uvicorn  # noqa: PLC0415

    from admitone.gateway.app import create_app  # noqa: PLC0415

    common = _uvicorn_options(ready)
    if ready.http_server == "granian":
        with _worker_environment(ready):
            _metrics_folder(ready)
            with _jobs_beside(ready):
                _granian(ready)  # granian stops on SIGINT/SIGTERM itself and returns
        print("admitone stopped")
    elif ready.workers == 1:
        uvicorn.run(create_app(ready), **common)
    else:
        # N HTTP workers plus one process for the background jobs (README, "Scaling"):
        # the jobs are safe to run twice, but there is no reason to run them N times.
        with _worker_environment(ready):
            _metrics_folder(ready)
            jobs = subprocess.Popen([sys.executable, "-m", "admitone.cli", "jobs"])
            os.environ[env_name("background_jobs")] = "0"
            try:
                uvicorn.run(
                    "admitone.gateway.app:app_from_env",
                    factory=True,
                    workers=ready.workers,
                    **common,
                )
            finally:
                jobs.terminate()
                jobs.wait(timeout=15)


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "log_level": "warning",
        "log_config": None,  # uvicorn's records go through admitone.logging's handler
        "timeout_graceful_shutdown": 10,
        # X-Forwarded-For is the app's to read (ADMITONE_TRUSTED_PROXIES, gateway/client.py):
        # uvicorn's own handling would let any local peer choose its address.
        "proxy_headers": False,
        # Past this many connections and requests the server answers 503 at once (the event
        # streams are capped below it, by ADMITONE_STREAMS_PER_PROCESS).
        "limit_concurrency": settings.limit_concurrency or None,
    }


def cmd_serve(settings: Settings) -> int:
    """Run only the HTTP workers: no background jobs here (``admitone jobs`` runs them), no
    migrations (``admitone migrate``, the chart's hook Job), no embedded servers.

    Every worker process is alike and shares nothing in memory that must agree across them:
    the queue, leases, rate limits, seat-map cache and revocations live in Redis, seats and
    money in PostgreSQL, and metrics are summed through prometheus_client's files."""
    import uvicorn  # noqa: PLC0415

    taken = _port_taken(settings)
    if taken:
        return _fail(taken)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    unset = [env_name(name) for name in ("operator_token", "payment_webhook_secret")
             if getattr(settings, name) is None]
    # Keys and secrets are made once here, before the workers start (each worker creating the
    # first signing key would race, and each would sign with its own).
    settings = msgspec.structs.replace(_prepare_data_dir(settings), background_jobs=False)
    if unset:
        print(f"admitone: {' and '.join(unset)} not set: using the ones generated in "
              f"{settings.data_dir}; every machine serving this deployment needs the same "
              "(set them, and share the signing keys in <data dir>/keys)", file=sys.stderr)
    os.environ[env_name("background_jobs")] = "0"
    if settings.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        _metrics_folder(settings)
    print(f"admitone serving on {settings.host}:{settings.port} with {settings.workers} worker(s)")
    with _worker_environment(settings), suppress(KeyboardInterrupt, SystemExit):
        if settings.http_server == "granian":
            _granian(settings)
        else:
            uvicorn.run(
                "admitone.gateway.app:app_from_env", factory=True, workers=settings.workers,
                **_uvicorn_options(settings),
            )
    return 0


@contextmanager
def _jobs_beside(settings: Settings) -> Iterator[None]:
    """The background jobs in a process of their own while the HTTP workers serve (``up``):
    they are safe to run twice, but there is no reason to run them once per worker."""
    if not settings.background_jobs:
        yield
        return
    jobs = subprocess.Popen([sys.executable, "-m", "admitone.cli", "jobs"])
    os.environ[env_name("background_jobs")] = "0"
    try:
        yield
    finally:
        jobs.terminate()
        jobs.wait(timeout=15)


def _granian(settings: Settings) -> None:
    """Serve with granian: its workers import the app from the environment
    (``app_from_env``), whatever their number, as uvicorn's do with more than one."""
    from granian import Granian  # noqa: PLC0415 - only when chosen
    from granian.constants import Interfaces, Loops  # noqa: PLC0415

    Granian(
        "admitone.gateway.app:app_from_env", factory=True, address=settings.host,
        port=settings.port, interface=Interfaces.ASGI, workers=settings.workers,
        loop=Loops.uvloop, websockets=False, log_access=False, workers_kill_timeout=10,
        # ADMITONE_LIMIT_CONCURRENCY, as uvicorn's limit_concurrency: requests a worker serves
        # at once (granian queues the rest instead of answering 503).
        backpressure=settings.limit_concurrency or None,
    ).serve()


def _print_demo(settings: Settings, show_id: str) -> None:
    base = settings.base_url
    print()
    print("  admitone demo is ready")
    print(f"  queue page:      {base}/shows/{show_id}/queue")
    print(f"  browse:          {base}/")
    print(f"  API docs:        {base}/schema/swagger   (OpenAPI: {base}/schema/openapi.json)")
    print(f"  operator token:  {settings.operator_token}")
    print(
        f"  room stats:      curl -H 'Authorization: Bearer {settings.operator_token}' "
        f"{base}/api/v1/admin/shows/{show_id}/waiting-room/stats"
    )
    print()


HEARTBEAT_FILE = "jobs-heartbeat"
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_STALE_SECONDS = 30.0


async def _beat(path: Path) -> None:
    """Touch ``path`` while this process's event loop turns (``admitone jobs --check`` reads it:
    a container's liveness probe, since the jobs serve no HTTP)."""
    while True:
        path.touch()  # noqa: ASYNC240 - a local file's mtime, once every few seconds
        await asyncio.sleep(HEARTBEAT_SECONDS)


def cmd_check_jobs(settings: Settings) -> int:
    """0 while the jobs process on this data folder beat within ``HEARTBEAT_STALE_SECONDS``."""
    try:
        age = time.time() - (settings.data_dir / HEARTBEAT_FILE).stat().st_mtime
    except OSError:
        return _fail("no heartbeat of admitone jobs in the data folder")
    if age > HEARTBEAT_STALE_SECONDS:
        return _fail(f"admitone jobs last beat {age:.0f} s ago")
    return 0


def cmd_jobs(settings: Settings) -> int:
    """Run only the background jobs (sweeper, outbox, reconciliation, admission scheduler)."""
    if settings.database_url is None or settings.redis_url is None:
        return _fail("admitone jobs needs ADMITONE_DATABASE_URL and ADMITONE_REDIS_URL")
    from admitone import jobs  # noqa: PLC0415
    from admitone.logging import configure_logging  # noqa: PLC0415
    from admitone.runtime import open_services  # noqa: PLC0415

    configure_logging(settings)
    stopping = threading.Event()

    async def run() -> None:
        # SIGTERM and SIGINT cancel this task, so the stack below unwinds in order (jobs finish
        # their round, the lease is given up, pools close). A SystemExit raised from a plain
        # signal handler lands wherever the loop happens to be, and once left a stop hanging.
        loop, main = asyncio.get_running_loop(), asyncio.current_task()

        def stop(signum: int) -> None:
            if main is not None and not stopping.is_set():
                stopping.set()
                _exit_later(JOBS_STOP_SECONDS, 128 + signum)  # the guard if a stop still hangs
                main.cancel()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop, signum)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            async with AsyncExitStack() as stack:
                services = await stack.enter_async_context(open_services(settings))
                await stack.enter_async_context(jobs.running(services))
                if services.monitoring is not None:  # this process's pool and Redis in /metrics
                    await stack.enter_async_context(services.monitoring.running())
                await _beat(settings.data_dir / HEARTBEAT_FILE)
        except asyncio.CancelledError:
            if not stopping.is_set():
                raise

    asyncio.run(run())
    return 0


def cmd_migrate(settings: Settings) -> int:
    from admitone.embedded import EmbeddedError  # noqa: PLC0415

    try:
        with _servers(settings, need_redis=False) as resolved:
            assert resolved.database_url is not None  # noqa: S101 - _servers sets it
            applied = asyncio.run(_migrate(resolved.database_url))
    except EmbeddedError as exc:
        return _fail(str(exc))
    except (OSError, asyncpg.PostgresError) as exc:
        return _fail(f"cannot migrate: {exc}")
    print(f"applied: {', '.join(applied)}" if applied else "database is up to date")
    return 0


def cmd_rotate_keys(settings: Settings) -> int:
    from admitone.admission.signing_keys import KeyRing, rotate_keys  # noqa: PLC0415

    folder = settings.data_dir / "keys"
    kid = rotate_keys(folder)
    ring = KeyRing.load(folder)
    print(f"new signing key {kid}; JWKS now serves: {', '.join(k.kid for k in ring.keys)}")
    print("restart admitone (or roll the deployment) so every process signs with the new key")
    return 0


def cmd_verify_draw(args: argparse.Namespace) -> int:
    from admitone import verify_draw  # noqa: PLC0415 - keeps --help fast

    return verify_draw.run(args.url, args.show_id, commitment=args.commitment, entry=args.entry)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="admitone",
        description="Virtual waiting room, admission gateway and booking core.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="migrate and run everything in the foreground")
    up.add_argument(
        "--demo", action="store_true", help="also create a demo show with a waiting room"
    )
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser(
        "serve", help="run only the HTTP workers, ADMITONE_WORKERS of them (for containers)"
    )
    jobs = sub.add_parser(
        "jobs", help="run only the background jobs (needs the database and Redis URLs)"
    )
    jobs.add_argument(
        "--check", action="store_true",
        help="exit 0 if the jobs process on this data folder is alive (a liveness probe)",
    )
    keys = sub.add_parser("keys", help="signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("rotate", help="add a new signing key (the previous one keeps verifying)")
    verify = sub.add_parser("verify-draw", help="check a room's published pre-queue draw")
    verify.add_argument("--url", required=True, help="admitone's address, e.g. https://tickets.example")
    verify.add_argument("--show-id", required=True)
    verify.add_argument("--commitment", help="the commitment you noted before the draw")
    verify.add_argument("--entry", help="your entry id (the queue page shows it)")
    return parser


def _split_command(command: str, settings: Settings, *, check: bool) -> int:
    """``serve``, ``jobs`` or ``jobs --check``: the container halves of ``up``."""
    if check:
        return cmd_check_jobs(settings)
    if settings.database_url is None or settings.redis_url is None:
        return _fail(f"admitone {command} needs ADMITONE_DATABASE_URL and ADMITONE_REDIS_URL")
    if (refusal := payments_refusal(settings)) is not None:
        return _fail(refusal)
    return cmd_serve(settings) if command == "serve" else cmd_jobs(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "verify-draw":  # needs no settings: anyone may check a draw
        return cmd_verify_draw(args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    if args.command == "up":
        return cmd_up(settings, args.demo)
    if args.command == "migrate":
        return cmd_migrate(settings)
    if args.command in {"serve", "jobs"}:
        return _split_command(args.command, settings, check=getattr(args, "check", False))
    return cmd_rotate_keys(settings)


if __name__ == "__main__":
    sys.exit(main())
