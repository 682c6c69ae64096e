"""Every benchmark in one go, written to BENCHMARKS.md.

    python bench/run_all.py                     # ~10-15 min on 2 cores, the 100k swarm included
    python bench/run_all.py --swarm-fans 0      # without the swarm (~6 min)

Finds or installs its tools (wrk, pgbench, redis-benchmark: apt-get as root; py-spy: pip),
then on this machine, each step on scratch databases and one Redis db (flushed before and
after; ``--redis-db``), all on 127.0.0.1:
1. the raw limits: pgbench on the seat UPDATE cycle, redis-benchmark, a trivial Litestar app,
   a Litestar app doing one EVALSHA (booking_bench.py, queue_bench.py);
2. admitone's queue join, status and progress under wrk (queue_bench.py);
3. the admission tick at 200,000 waiting fans (queue_memory.py's fill), and Redis bytes per fan;
4. admitone's seat lock + release under wrk (booking_bench.py);
5. complete bookings per second on one 5,000-seat show at 1 and 2 workers (checkout_bench.py);
6. a short locust surge with its verdict, and the 100,000-fan swarm with its verdict.
Then BENCHMARKS.md: date, machine, load average before and after, versions, each rate with its
p50/p99 and its ratio to the raw limit measured in the same run. Nothing is profiled here
(booking_bench.py and queue_bench.py do that on their own).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib.metadata
import json
import logging
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import structlog
from booking_bench import (
    ROOT,
    SEATS,
    Server,
    free_port,
    pg,
    quietly,
    redis_port,
    run_ceiling,
    sql,
)
from booking_bench import run_admitone as run_lock
from booking_bench import run_database as run_pgbench
from queue_bench import run_admitone as run_queue
from queue_bench import run_lua_app, run_raw
from redis.asyncio import Redis as AsyncRedis

if str(ROOT) not in sys.path:  # loadtests/ is a folder of the repository, not a package
    sys.path.append(str(ROOT))
import checkout_bench
import queue_memory

from admitone.queue import keys
from admitone.queue.models import WaitingRoom
from admitone.queue.store import QueueStore

BENCH_PREFIX = "bench"  # the Redis key prefix of the benchmark's own rooms

TOOLS = {"wrk": ("apt", "wrk"), "pgbench": ("apt", "postgresql-client"),
         "redis-benchmark": ("apt", "redis-tools"), "py-spy": ("pip", "py-spy")}
TICK_FANS = 200_000
TICKS = 30


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--redis-db", type=int, default=12, help="Redis db on 127.0.0.1:6379 (flushed)")
    add("--own-redis", action="store_true",
        help="start a Redis of its own on a free loopback port for the run (nothing shared)")
    add("--own-postgres", action="store_true",
        help="start a PostgreSQL of its own (the machine's binaries, admitone.embedded) for the "
             "run: a shared server's connection slots can run out under other users")
    add("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    add("--duration", type=int, default=10, help="seconds of each wrk run (default 10)")
    add("--workers", type=int, default=2, help="HTTP workers of the wrk runs (default 2)")
    add("--swarm-fans", type=int, default=100_000, help="fans of the swarm (0: no swarm)")
    add("--swarm-join-seconds", type=float, default=60.0)
    add("--swarm-rate", type=int, default=30_000, help="releaseRatePerMinute of the swarm's room")
    add("--swarm-max-seconds", type=float, default=900.0)
    add("--swarm-no-hold", dest="swarm_hold", action="store_false",
        help="admit while the fans arrive, instead of holding the room paused until every fan "
             "has joined (then nothing may be bounded by the rate on a slow machine)")
    add("--server", choices=("uvicorn", "granian"), default="uvicorn",
        help="the HTTP server of the wrk runs (ADMITONE_HTTP_SERVER; default uvicorn)")
    add("--surge-fans", type=int, default=200)
    add("--quick", action="store_true",
        help="every step small (~4 min): checks that the script works; its numbers say little")
    args = parser.parse_args()
    # What booking_bench.py's and queue_bench.py's steps read from their own command lines.
    for name, value in {"connections": 32, "threads": 2, "warmup": 1, "pg_duration": 5,
                        "pg_clients": "8,32", "hot_seats": SEATS,
                        "profile": "never", "profile_seconds": 2, "profile_dir": None,
                        "redis_requests": 100_000, "redis_clients": 50, "visitors": 3_000,
                        "memory": False, "auto_pipeline": "on", "lock_batch": None,
                        "only_pg": False}.items():
        setattr(args, name, value)
    args.tick_fans, args.checkout_rows, args.surge_seconds = TICK_FANS, checkout_bench.ROWS, 55
    if args.quick:
        args.duration, args.warmup, args.pg_duration, args.pg_clients = 2, 0, 2, "8"
        args.redis_requests, args.visitors, args.tick_fans = 20_000, 300, 20_000
        args.checkout_rows = 5
        args.surge_fans, args.surge_seconds = 50, 30
        args.swarm_fans, args.swarm_join_seconds, args.swarm_rate = 2_000, 5.0, 6_000
    return args


# Tools, machine, versions -------------------------------------------------------------------------

def ensure_tools() -> list[str]:
    """Each tool found on PATH, or installed (apt-get as root, pip); what was done."""
    notes = []
    for tool, (how, package) in TOOLS.items():
        if shutil.which(tool):
            notes.append(f"{tool}: found at {shutil.which(tool)}")
            continue
        if how == "pip":
            command = [sys.executable, "-m", "pip", "install", "-q", package]
        elif os.geteuid() == 0 and shutil.which("apt-get"):
            command = ["apt-get", "install", "-y", "-q", package]
        else:
            raise SystemExit(f"{tool} is missing: install {package} (apt-get or your packages)")
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0 or not shutil.which(tool):
            raise SystemExit(f"could not install {tool}: {done.stderr[-400:]}")
        notes.append(f"{tool}: installed ({' '.join(command[:3])} {package})")
    return notes


def _first_line(command: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    return "?"


def machine() -> dict[str, str]:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total = next((int(line.split()[1]) for line in meminfo.splitlines()
                  if line.startswith("MemTotal")), 0)
    return {"cores": str(os.cpu_count()), "cpu": model, "memory": f"{total / 2**20:.1f} GiB",
            "kernel": platform.release()}


def versions(scratch: redis.Redis) -> dict[str, str]:
    found = {"python": platform.python_version(),
             "postgresql": str(sql("postgres", "SELECT current_setting($1)",
                                   "server_version")[0][0]),
             "redis": str(scratch.info("server")["redis_version"]),
             "wrk": _first_line(["wrk", "-v"]), "pgbench": _first_line(["pgbench", "--version"]),
             "redis-benchmark": _first_line(["redis-benchmark", "--version"]),
             "py-spy": _first_line(["py-spy", "--version"])}
    for package in ("litestar", "uvicorn", "asyncpg", "redis", "msgspec", "locust"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    found["admitone"] = _first_line(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"])
    return found


# The admission tick -------------------------------------------------------------------------------

async def _ticks(url: str, fans: int) -> dict[str, Any]:
    """Fill one room with ``fans`` fans (join.lua, pipelined), then time TICKS ticks that
    admit 100 each; the Redis bytes each waiting fan costs."""
    client = AsyncRedis.from_url(url)
    show_id = str(uuid.uuid4())
    clock = [int(time.time() * 1000)]
    store = QueueStore(client, prefix=BENCH_PREFIX, clock=lambda: clock[0])
    room = WaitingRoom(
        show_id=show_id, enabled=True, release_rate_per_minute=6_000, max_active=10_000_000,
        session_seconds=600, queue_mode="FIFO", opens_at=None, starts_at=None, paused=False,
        fail_open=False, abandon_grace_seconds=86_400, pow_difficulty_bits=0,
        updated_at=datetime.now(UTC))
    try:
        await store.sync(room, [])
        await store.tick(show_id, 1, 1000)
        before = int((await client.info("memory"))["used_memory"])
        await queue_memory.fill(store, show_id, fans)
        after = int((await client.info("memory"))["used_memory"])
        durations = []
        for _ in range(TICKS):
            clock[0] += 1000
            started = time.perf_counter()
            result = await store.tick(show_id, 1, 1000)
            durations.append((time.perf_counter() - started) * 1000)
            if result is None or len(result.admitted) != 100:
                raise RuntimeError(f"a tick did not admit 100: {result}")
        ordered = sorted(durations)
        return {"fans": fans, "bytes_per_fan": (after - before) / fans,
                "p50_ms": statistics.median(ordered), "p99_ms": ordered[-1],
                "rate": 1000 / statistics.median(ordered)}
    finally:
        await client.unlink(*keys.RoomKeys.of(BENCH_PREFIX, show_id),
                            keys.admission_log_key(BENCH_PREFIX, show_id))
        await client.aclose()


# Surge and swarm ----------------------------------------------------------------------------------

def start_admitone(tmp: Path, stack: contextlib.ExitStack, name: str, redis_db: int,
                   workers: int) -> tuple[str, str, str, str]:
    """``admitone up`` on a fresh scratch database, the per-IP join limit lifted (every load
    generator here is one IP); (base URL, operator token, database URL, Redis URL)."""
    db = f"admitone_{name}_{os.getpid()}"
    drop = f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'
    stack.callback(quietly, f"drop {db}", functools.partial(sql, "postgres", drop))
    sql("postgres", f'CREATE DATABASE "{db}"')
    asyncio.run(checkout_bench._seed_database(f"{pg()}/{db}"))
    scratch = redis.Redis(host="127.0.0.1", port=redis_port(), db=redis_db, socket_timeout=5)
    scratch.flushdb()
    scratch.close()
    port, token = free_port(), secrets.token_urlsafe(24)
    database_url, redis_url = f"{pg()}/{db}", f"redis://127.0.0.1:{redis_port()}/{redis_db}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMITONE_")}
    env["ADMITONE_SANDBOX_PAYMENTS"] = "1"  # they pay in the sandbox (development mode)
    env.update(ADMITONE_DATABASE_URL=database_url, ADMITONE_REDIS_URL=redis_url,
               ADMITONE_DATA_DIR=str(tmp / f"data-{name}"), ADMITONE_OPERATOR_TOKEN=token,
               ADMITONE_WORKERS=str(workers), ADMITONE_HOST="127.0.0.1", ADMITONE_PORT=str(port),
               ADMITONE_QUEUE_JOIN_RATE_PER_SECOND="1000000", ADMITONE_QUEUE_JOIN_BURST="1000000",
               ADMITONE_LOG_LEVEL="warning")
    server = Server(name, [sys.executable, "-m", "admitone.cli", "up"], env, port, tmp)
    stack.callback(quietly, f"stop {name}", server.stop)
    server.start("/healthz", workers)
    return f"http://127.0.0.1:{port}", token, database_url, redis_url


def _python_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def run_surge(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> dict[str, Any]:
    base, token, database_url, redis_url = start_admitone(tmp, stack, "surge", args.redis_db,
                                                          args.workers)
    verdict = tmp / "surge-verdict.json"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests" / "locustfile.py"),
         "--headless", "-u", str(args.surge_fans), "-r", "100", "--run-time",
         f"{args.surge_seconds}s", "--hard-stop-seconds", str(args.surge_seconds + 5),
         "--host", base, "--operator-token", token,
         "--database-url", database_url, "--redis-url", redis_url, "--verdict-json",
         str(verdict), "--only-summary", "--csv", str(tmp / "surge")],
        cwd=ROOT, env=_python_env(), capture_output=True, text=True, timeout=180, check=False)
    requests = failures = 0
    stats = tmp / "surge_stats.csv"
    if stats.exists():
        last = stats.read_text().strip().splitlines()[-1].split(",")
        requests, failures = int(last[2]), int(last[3])
    return {"exit_code": done.returncode, "seconds": time.monotonic() - started,
            "requests": requests, "failures": failures,
            "verdict": json.loads(verdict.read_text())["lines"] if verdict.exists() else []}


def run_swarm(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> dict[str, Any]:
    base, token, database_url, redis_url = start_admitone(tmp, stack, "swarm", args.redis_db,
                                                          args.workers)
    out = tmp / "swarm.json"
    done = subprocess.run(
        [sys.executable, "-m", "loadtests.swarm", "--host", base, "--operator-token", token,
         "--fans", str(args.swarm_fans), "--join-seconds", str(args.swarm_join_seconds),
         "--rate", str(args.swarm_rate), "--max-seconds", str(args.swarm_max_seconds),
         *(["--hold-until-joined"] if args.swarm_hold else []),
         "--database-url", database_url, "--redis-url", redis_url, "--json", str(out)],
        cwd=ROOT, env=_python_env(), capture_output=True, text=True,
        timeout=args.swarm_max_seconds + 120, check=False)
    result: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    result["exit_code"] = done.returncode
    result["stderr"] = done.stderr[-500:]
    return result


# BENCHMARKS.md ------------------------------------------------------------------------------------

def ms(us: float) -> float:
    return us / 1000.0


def _row(measure: str, rate: str, p50: float, p99: float, ratio: str,  # noqa: PLR0917 - a column each
         notes: str = "") -> str:
    return f"| {measure} | {rate} | {p50:.2f} / {p99:.2f} | {ratio} | {notes} |"


def _verdict_table(lines: list[dict[str, Any]]) -> list[str]:
    out = ["| check | verdict | value |", "|---|---|---|"]
    out += [f"| {line['check']} | {line['verdict']} | {line['value']} |" for line in lines]
    return out


def write_report(args: argparse.Namespace, r: dict[str, Any]) -> str:
    pg = dict(r["pgbench"])
    raw_best_name, raw_best = max(((n, row) for n, row in pg.items() if n.startswith("raw")),
                                  key=lambda item: item[1]["rate"])
    functions = next(row for name, row in pg.items() if name.startswith("seat functions"))
    redis_rows = {row["name"]: row for row in r["redis"]}
    evalsha = redis_rows["EVALSHA INCR+ZADD"]["rate"]
    ceiling, lua, queue, lock = r["ceiling"], r["lua"], r["queue"], r["lock"]
    m, before, after = r["machine"], r["load_before"], r["load_after"]
    lines = [
        "# Benchmarks", "",
        f"Written by `python bench/run_all.py` on {r['date']} in {r['seconds'] / 60:.1f} min. "
        "Every number below was measured in that one run on this machine, each ratio against "
        "a raw limit measured in the same run. Rerun the command to get your own.", "",
        "## Machine", "",
        f"- {m['cores']} cores ({m['cpu']}), {m['memory']} memory, Linux {m['kernel']}",
        f"- load average (1/5/15 min) before: {' / '.join(f'{v:.2f}' for v in before)}; "
        f"after: {' / '.join(f'{v:.2f}' for v in after)}",
    ]
    if before[0] > float(m["cores"]) * 0.5:
        lines.append("- **the machine was busy with other work during this run** (the load "
                     "average above): every rate here is lower, and every latency higher, "
                     "than on a quiet machine; the ratios, measured under the same load, hold "
                     "up better than the absolute numbers")
    lines += ["", "## Versions", "", *[f"- {k}: {v}" for k, v in r["versions"].items()], "",
              "Tools: " + "; ".join(r["tools"]), "",
              "## Raw limits", "",
              "| measure | rate /s | p50 / p99 ms | ratio | notes |", "|---|---|---|---|---|"]
    for name, row in pg.items():
        lines.append(_row(f"pgbench {name}", f"{row['rate']:,.0f}", ms(row["p50_us"]),
                          ms(row["p99_us"]), "—", "seat lock + release cycles (2 statements)"))
    for name, row in redis_rows.items():
        lines.append(_row(f"redis-benchmark {name}", f"{row['rate']:,.0f}", row["p50_ms"],
                          row["p99_ms"], "—", "50 clients, unpipelined"))
    lines.append(_row("trivial Litestar GET (ceiling)", f"{ceiling['rps']:,.0f}",
                      ms(ceiling["p50_us"]), ms(ceiling["p99_us"]), "—",
                      f"{args.workers} workers, wrk 32 connections"))
    lines.append(_row("Litestar + one EVALSHA", f"{lua['rps']:,.0f}", ms(lua["p50_us"]),
                      ms(lua["p99_us"]), f"{lua['rps'] / ceiling['rps']:.2f} of the ceiling", ""))
    lines += ["", "## admitone", "",
              "| measure | rate /s | p50 / p99 ms | ratio to the raw limit | notes |",
              "|---|---|---|---|---|"]
    for name in ("join", "status", "progress"):
        row = queue[name]
        lines.append(_row(f"`{name}`", f"{row['rps']:,.0f}", ms(row["p50_us"]), ms(row["p99_us"]),
                          f"{row['rps'] / ceiling['rps']:.2f} of the ceiling, "
                          f"{row['rps'] / evalsha:.2f} of raw EVALSHA",
                          f"non-2xx {row['non2xx']}"))
    tick = r["tick"]
    lines.append(_row("admission tick (100 admitted)", f"{tick['rate']:,.0f} ticks",
                      tick["p50_ms"], tick["p99_ms"], f"{tick['rate'] / evalsha:.3f} of raw "
                      "EVALSHA calls", f"{tick['fans']:,} waiting; one tick a second is what a "
                      f"room needs; {tick['bytes_per_fan']:.0f} Redis bytes per waiting fan"))
    lines.append(_row("seat lock (+ its release)", f"{lock['rate']:,.0f} locks",
                      ms(lock["p50_us"]), ms(lock["p99_us"]),
                      f"{lock['rate'] / raw_best['rate']:.2f} of raw pgbench ({raw_best_name}), "
                      f"{lock['rate'] / functions['rate']:.2f} of the seat functions",
                      f"{lock['rps']:,.0f} requests/s (latency over locks and releases), 5xx "
                      f"{lock['server_errors']}"))
    for row in r["checkout"]:
        once = "every seat sold exactly once" if row["sold_exactly_once"] else "**NOT sold once**"
        lines.append(_row(f"complete bookings, {row['workers']} worker(s)",
                          f"{row['rate']:,.1f} bookings ({row['seats_per_second']:,.0f} seats)",
                          row["p50_ms"], row["p99_ms"],
                          f"{row['rate'] / raw_best['rate']:.3f} of raw pgbench cycles, "
                          f"{row['rate'] / lock['rate']:.2f} of the lock rate",
                          f"{row['confirmed']:,} bookings, {row['seats']:,} of "
                          f"{row['seats_total']:,} seats in "
                          f"{row['seconds']:.0f} s by 32 buyers; {once}; 409s {row['conflicts']}"
                          f"; failures {row['failures'] or 0}; verdict broken: "
                          f"{', '.join(row['verdict_broken']) or 'none'}"))
    lines += ["", "A complete booking is lock -> checkout (`Idempotency-Key`) -> sandbox payment "
              "-> its signed webhook -> CONFIRMED, timed from the lock request to the payment's "
              "answer (the webhook is delivered before it returns).", ""]
    surge = r.get("surge")
    if surge:
        lines += ["## Surge verdict", "",
                  f"`locustfile.py`, {args.surge_fans} fans, at most {args.surge_seconds} s: "
                  f"{surge['requests']:,} requests, {surge['failures']} failures, exit code "
                  f"{surge['exit_code']}.", "",
                  *_verdict_table(surge["verdict"]), ""]
    swarm = r.get("swarm")
    if swarm:
        n = swarm.get("numbers", {})
        lines += ["## The 100,000-fan swarm", "",
                  f"`python -m loadtests.swarm --fans {args.swarm_fans} --join-seconds "
                  f"{args.swarm_join_seconds:g} --rate {args.swarm_rate}"
                  f"{' --hold-until-joined' if args.swarm_hold else ''}` (an asyncio generator, "
                  "not locust: see loadtests/README.md) against `admitone up` with "
                  f"{args.workers} workers; exit code {swarm['exit_code']}.", "",
                  f"- joined: {n.get('joined', 0):,} of {n.get('fans', 0):,} in "
                  f"{n.get('joinWindowSeconds')} s ({n.get('joinsPerSecond')} joins/s; join p50 "
                  f"{n.get('joinP50Ms')} ms, p99 {n.get('joinP99Ms')} ms); errors "
                  f"{n.get('joinErrors')}",
                  f"- access tokens taken once admitted: {n.get('tokensFetched', 0):,} (status "
                  f"p50 {n.get('statusP50Ms')} ms, p99 {n.get('statusP99Ms')} ms); errors "
                  f"{n.get('statusErrors')}",
                  f"- the room held paused until every fan had joined, resumed after "
                  f"{n.get('saleResumedAfterSeconds')} s" if args.swarm_hold else
                  "- the room admitted while the fans arrived",
                  f"- everyone admitted after {n.get('allAdmittedAfterSeconds')} s; waiting at the "
                  f"end {n.get('waitingAtEnd')}; timed out: {n.get('timedOut')}; run "
                  f"{n.get('seconds')} s", "",
                  *_verdict_table(swarm.get("verdict", [])), ""]
        if swarm.get("exit_code") and not swarm.get("verdict"):
            lines += [f"The swarm did not finish: `{swarm.get('stderr', '')}`", ""]
    return "\n".join(lines) + "\n"


def own_redis(tmp: Path, stack: contextlib.ExitStack) -> str:
    """A redis-server of this run's own on a free loopback port (no persistence), stopped at
    the end; every step uses it through ``$BENCH_REDIS_PORT``. What was started."""
    binary = next(filter(None, (shutil.which(p) for p in ("/usr/bin/redis-server",
                                                          "redis-server"))), None)
    if binary is None:
        raise SystemExit("--own-redis: no redis-server (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp), "--maxclients", "10000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=10)
    stack.callback(quietly, "stop the run's redis-server", stop)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    for _ in range(50):
        with contextlib.suppress(redis.RedisError):
            if client.ping():
                break
        time.sleep(0.1)
    client.close()
    os.environ["BENCH_REDIS_PORT"] = str(port)
    return f"a redis-server of the run's own ({binary}) on 127.0.0.1:{port}"


def own_postgres(tmp: Path, stack: contextlib.ExitStack) -> str:
    """A PostgreSQL cluster of this run's own (admitone.embedded: the machine's binaries, run
    as the ``postgres`` user when we are root), stopped at the end; every step reads it from
    ``$BENCH_PG_URL``. What was started."""
    from admitone.embedded import EmbeddedPostgres  # noqa: PLC0415 - only with --own-postgres

    folder = tmp / "postgres-own"
    folder.mkdir()
    for path in (tmp, folder):
        path.chmod(0o755)  # the postgres user must reach it
    url = stack.enter_context(EmbeddedPostgres(folder))
    server = url.rsplit("/", 1)[0]
    os.environ["BENCH_PG_URL"] = server
    return f"a cluster of the run's own (admitone.embedded, default settings) at {server}"


def run_steps(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack, tag: str, *,
              scratch: redis.Redis, results: dict[str, Any]) -> None:
    """The six steps, in order, each result into ``results``."""
    scratch.flushdb()
    results["versions"] = versions(scratch)
    redis_pid = [int(scratch.info("server")["process_id"])]
    print("1/6 raw limits: pgbench, redis-benchmark, trivial app, one-EVALSHA app", flush=True)
    sql("postgres", f'CREATE DATABASE "{tag}_raw"')
    results["pgbench"] = run_pgbench(args, tmp, f"{tag}_raw")
    results["redis"] = run_raw(args, scratch)
    with contextlib.ExitStack() as step:  # each step's servers stop when the step ends
        results["ceiling"] = run_ceiling(args, tmp, step)
    with contextlib.ExitStack() as step:
        results["lua"] = run_lua_app(args, tmp, step, redis_pid)
    scratch.flushdb()
    print("2/6 admitone: join, status, progress", flush=True)
    with contextlib.ExitStack() as step:
        queue, _ = run_queue(args, tmp, step, f"{tag}_queue", scratch=scratch,
                             redis_pid=redis_pid)
    results["queue"] = queue
    scratch.flushdb()
    print(f"3/6 admission tick at {args.tick_fans:,} waiting fans", flush=True)
    results["tick"] = asyncio.run(_ticks(f"redis://127.0.0.1:{redis_port()}/{args.redis_db}",
                                         args.tick_fans))
    scratch.flushdb()
    print("4/6 admitone: seat lock + release", flush=True)
    with contextlib.ExitStack() as step:
        results["lock"], _ = run_lock(args, tmp, step, f"{tag}_lock")
    print("5/6 complete bookings, 1 and 2 workers", flush=True)
    results["checkout"] = []
    for workers in (1, 2):
        with contextlib.ExitStack() as step:
            results["checkout"].append(checkout_bench.run(workers, args.redis_db, tmp, step,
                                                          args.checkout_rows))
    print(f"6/6 surge ({args.surge_fans} fans) and swarm ({args.swarm_fans:,} fans)",
          flush=True)
    with contextlib.ExitStack() as step:
        results["surge"] = run_surge(args, tmp, step)
    if args.swarm_fans:
        with contextlib.ExitStack() as step:
            results["swarm"] = run_swarm(args, tmp, step)


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up when killed, too
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    tools = ensure_tools()
    results: dict[str, Any] = {"tools": tools, "machine": machine(),
                               "load_before": os.getloadavg(),
                               "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="admitone-run-all-"))
    tag = f"admitone_run_all_{os.getpid()}"
    with contextlib.ExitStack() as stack:
        stack.callback(quietly, "remove the temp dir", lambda: shutil.rmtree(tmp))
        if args.own_redis:
            results["tools"].append(f"Redis: {own_redis(tmp, stack)}")
        if args.own_postgres:
            results["tools"].append(f"PostgreSQL: {own_postgres(tmp, stack)}")
        scratch = redis.Redis(host="127.0.0.1", port=redis_port(), db=args.redis_db,
                              socket_timeout=5)
        stack.callback(scratch.close)
        stack.callback(quietly, "flush the redis db", scratch.flushdb)
        for name in (f"{tag}_raw", f"{tag}_queue", f"{tag}_lock"):
            drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            stack.callback(quietly, f"drop {name}", functools.partial(sql, "postgres", drop))
        run_steps(args, tmp, stack, tag, scratch=scratch, results=results)
    results["load_after"] = os.getloadavg()
    results["seconds"] = time.monotonic() - started
    args.out.write_text(write_report(args, results))
    print(f"wrote {args.out} ({results['seconds'] / 60:.1f} min)")
    broken = any(not row["sold_exactly_once"] or row["verdict_broken"]
                 for row in results["checkout"])
    broken = broken or results["surge"]["exit_code"] != 0
    broken = broken or bool(results.get("swarm") and results["swarm"]["exit_code"] != 0)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
