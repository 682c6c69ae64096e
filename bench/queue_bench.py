"""The waiting room's benchmark: raw Redis, the framework's ceiling, one Lua call over HTTP,
and admitone's queue join, status and progress.

redis-benchmark on the raw operations, then wrk (all on 127.0.0.1) on a trivial Litestar app,
on a Litestar app doing one EVALSHA, and on `admitone up`'s queue endpoints, then a py-spy
profile of one worker for each endpoint that misses its aim. Cleans up even on failure.
Helpers (servers in their own process group, wrk, CPU sampling) come from booking_bench.py.
What each number means: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis
import structlog
from booking_bench import (
    BENCH,
    Server,
    cores_note,
    cpu_seconds,
    free_port,
    ms,
    pg,
    quietly,
    redis_port,
    run_ceiling,
    server_command,
    setup_show,
    sql,
    wrk,
)

from admitone.admission.signing_keys import KeyRing
from admitone.admission.tokens import TokenService
from admitone.db.migrate import migrate
from admitone.gateway.client import client_binding

AIMS = {"join": 8_000, "status": 10_000, "progress": 25_000}  # requests/s
AIM_P99_MS = 50.0
MAX_LOAD_SECONDS = 75
RAW_TESTS = "set,get,incr,zadd"
ROOM = {"enabled": True, "releaseRatePerMinute": 60, "maxActive": 100, "sessionSeconds": 600,
        "queueMode": "FIFO"}
USER_AGENT = "bench"  # wrk's scripts send it too: queue tokens are bound to it
LUA_CALL = BENCH / "queue_redis_call.lua"  # step 1's EVALSHA and bench/lua_app.py's one call


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--duration", type=int, default=10, help="seconds of each wrk measurement (default 10)")
    add("--connections", type=int, default=32, help="wrk connections (default 32)")
    add("--threads", type=int, default=2, help="wrk threads (default 2)")
    add("--workers", type=int, default=int(os.environ.get("ADMITONE_WORKERS", "2")),
        help="HTTP workers of every app (default $ADMITONE_WORKERS, else 2: this machine's cores)")
    add("--warmup", type=int, default=1, help="unmeasured seconds before each wrk run (default 1)")
    add("--redis-requests", type=int, default=100_000,
        help="requests of each redis-benchmark test (default 100000)")
    add("--redis-clients", type=int, default=50, help="redis-benchmark clients (default 50)")
    add("--visitors", type=int, default=3_000,
        help="fans joined before the status run, whose tokens wrk cycles through (default 3000)")
    add("--redis-db", type=int, default=12, help="Redis db on 127.0.0.1:6379 (flushed; default 12)")
    add("--server", choices=["uvicorn", "granian"], default="uvicorn",
        help="the ASGI server of admitone and of the trivial ceiling (ADMITONE_HTTP_SERVER)")
    add("--auto-pipeline", choices=["on", "off"], default="on",
        help="ADMITONE_QUEUE_AUTO_PIPELINE of admitone: room script calls of one event-loop turn "
             "as one Redis pipeline (default on, as admitone's default)")
    add("--profile", choices=["auto", "always", "never"], default="auto",
        help="py-spy one worker during a short extra run of each endpoint that misses its aim "
             "(auto), of every endpoint (always), or never")
    add("--profile-seconds", type=int, default=2,
        help="seconds py-spy records, in a wrk run 1 s longer (default 2)")
    add("--profile-dir", type=Path, default=None,
        help="keep py-spy's raw profiles (pyspy-<endpoint>.txt, flamegraph.pl input) here")
    add("--memory", action="store_true",
        help="then run bench/queue_memory.py (1,000,000 fans: bytes per fan, tick time; ~75 s)")
    add("--memory-fans", type=int, default=1_000_000,
        help="fans queue_memory.py queues (default 1000000, the aim's size)")
    return parser.parse_args()


def planned_load(args: argparse.Namespace) -> float:
    """Seconds of load at most: redis-benchmark (at ~100,000 ops/s), five wrk runs, the
    pre-joins, and a profiled run per endpoint."""
    redis_tests = len(RAW_TESTS.split(",")) + 1
    wrk_runs = 5 * (args.warmup + args.duration)
    profiles = 0 if args.profile == "never" else 3 * (args.profile_seconds + 1)
    prejoin = args.visitors / 1_000  # httpx joins about 1,000 fans a second here
    return float(redis_tests * args.redis_requests / 100_000 + wrk_runs + prejoin + profiles)


# 1. raw Redis ------------------------------------------------------------------------------------

def redis_benchmark(args: argparse.Namespace, *command: str) -> list[dict[str, Any]]:
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(redis_port()), "--dbnum",
           str(args.redis_db), "-c", str(args.redis_clients), "-n", str(args.redis_requests),
           "--csv", *command]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    rows = [line.replace('"', "").rsplit(",", 7) for line in done.stdout.splitlines()[1:]]
    if done.returncode != 0 or not rows:
        raise RuntimeError(f"redis-benchmark failed ({done.returncode}): {done.stderr[-400:]}")
    return [{"name": row[0], "rate": float(row[1]), "p50_ms": float(row[4]),
             "p99_ms": float(row[6])} for row in rows]


def run_raw(args: argparse.Namespace, scratch: redis.Redis) -> list[dict[str, Any]]:
    rows = redis_benchmark(args, "-t", RAW_TESTS)
    sha = str(scratch.script_load(LUA_CALL.read_text()))
    lua = redis_benchmark(args, "-r", "1000000", "evalsha", sha, "2", "{bench:raw}:counter",
                          "{bench:raw}:waiting", "m:__rand_int__")
    rows.append({**lua[0], "name": "EVALSHA INCR+ZADD"})
    for row in rows:
        print(f"  {row['name']}: {row['rate']:,.0f} ops/s")
    return rows


# 3. one Lua call over HTTP -----------------------------------------------------------------------

def run_lua_app(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack,
                redis_pid: list[int]) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "BENCH_REDIS_URL": f"redis://127.0.0.1:{redis_port()}/{args.redis_db}"}
    server = Server("lua_app", server_command(args.server, "lua_app:app", port, args.workers), env,
                    port, tmp)
    stack.callback(quietly, "stop the Lua app", server.stop)
    server.start("/ping", args.workers)
    url = f"http://127.0.0.1:{port}/lua"
    answer = httpx.post(url, timeout=5)
    if answer.status_code != 200 or "ticket" not in answer.json():
        raise RuntimeError(f"the Lua app answered {answer.status_code} {answer.text[:200]}")
    if args.warmup:
        wrk(url, "queue_plain.lua", args.warmup, args, extra=["POST"])
    result = wrk(url, "queue_plain.lua", args.duration, args, extra=["POST"],
                 groups={"workers": server.workers(), "redis-server": redis_pid})
    server.stop()
    return result


# 4. admitone -------------------------------------------------------------------------------------

class Admitone:
    """`python -m admitone.cli up` on the scratch database and Redis db, with one show whose
    waiting room is open."""

    def __init__(self, args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack,
                 db: str) -> None:
        self.port, self.operator_token = free_port(), secrets.token_urlsafe(24)
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADMITONE_")}
        env["ADMITONE_SANDBOX_PAYMENTS"] = "1"  # they pay in the sandbox (development mode)
        env.update(ADMITONE_DATABASE_URL=f"{pg()}/{db}", ADMITONE_DATA_DIR=str(tmp / "data"),
                   ADMITONE_REDIS_URL=f"redis://127.0.0.1:{redis_port()}/{args.redis_db}",
                   ADMITONE_OPERATOR_TOKEN=self.operator_token, ADMITONE_BACKGROUND_JOBS="1",
                   ADMITONE_WORKERS=str(args.workers), ADMITONE_HOST="127.0.0.1",
                   ADMITONE_PORT=str(self.port), ADMITONE_HTTP_SERVER=args.server,
                   # wrk is one client IP: the per-IP join limit (10/s, burst 40) is lifted
                   ADMITONE_QUEUE_JOIN_RATE_PER_SECOND="1000000",
                   ADMITONE_QUEUE_JOIN_BURST="1000000",
                   ADMITONE_QUEUE_AUTO_PIPELINE="1" if args.auto_pipeline == "on" else "0")
        self.server = Server("admitone", [sys.executable, "-m", "admitone.cli", "up"], env,
                             self.port, tmp)
        stack.callback(quietly, "stop admitone", self.server.stop)
        self.server.start("/healthz", args.workers)
        self.show_id = setup_show(self.base, self.operator_token)
        self.queue = f"{self.base}/api/v1/queue/{self.show_id}"
        room = httpx.put(f"{self.base}/api/v1/admin/shows/{self.show_id}/waiting-room",
                         json=ROOM, headers=self.operator_headers, timeout=10)
        if room.status_code != 200:
            raise RuntimeError(f"PUT waiting-room -> {room.status_code} {room.text[:300]}")

    @property
    def operator_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_token}"}

    def stats(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.base}/api/v1/admin/shows/{self.show_id}/waiting-room/stats",
                           headers=self.operator_headers, timeout=10)
        answer.raise_for_status()
        stats: dict[str, Any] = answer.json()
        return stats

    def ticket(self) -> int:
        """Join once (a fresh fan); its ticket number."""
        answer = httpx.post(f"{self.queue}/join", headers={"User-Agent": USER_AGENT}, timeout=10)
        if answer.status_code != 200:
            raise RuntimeError(f"join -> {answer.status_code} {answer.text[:300]}")
        return int(answer.json()["ticketNumber"])

    def error_lines(self) -> int:
        return sum('"level":"error"' in ln.replace(" ", "") or "Traceback" in ln
                   for ln in self.server.log.read_text(errors="replace").splitlines())


async def _join_many(url: str, count: int) -> list[str]:
    """``count`` fresh fans joined over 8 connections; their queue tokens. (httpx's pool
    gets slower, not faster, with more: 64 connections took 5x as long here.)"""
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, limits=limits,
                                 timeout=30) as client:
        gate = asyncio.Semaphore(8)

        async def one() -> str:
            async with gate:
                answer = await client.post(url)
            if answer.status_code != 200 or answer.json().get("status") != "WAITING":
                raise RuntimeError(f"pre-join -> {answer.status_code} {answer.text[:200]}")
            return str(answer.json()["token"])
        return list(await asyncio.gather(*(one() for _ in range(count))))


def redis_calls(scratch: redis.Redis) -> tuple[int, int, int]:
    """(script calls, all commands including those run inside scripts, microseconds Redis spent
    running scripts) so far, for every client and db: other users of the server add noise."""
    info = {k: v for k, v in scratch.info("commandstats").items() if isinstance(v, dict)}
    scripts = [v for k, v in info.items() if k in {"cmdstat_evalsha", "cmdstat_eval"}]
    return (sum(int(v["calls"]) for v in scripts), sum(int(v["calls"]) for v in info.values()),
            sum(int(v["usec"]) for v in scripts))


def measure(name: str, url: str, script: str, extra: list[str], *, args: argparse.Namespace,
            groups: dict[str, list[int]], scratch: redis.Redis) -> dict[str, Any]:
    if args.warmup:
        wrk(url, script, args.warmup, args, extra=extra)
    before = redis_calls(scratch)
    result = wrk(url, script, args.duration, args, extra=extra, groups=groups)
    after, requests = redis_calls(scratch), max(1, result["requests"])
    result["scripts_per_request"] = (after[0] - before[0]) / requests
    result["commands_per_request"] = (after[1] - before[1]) / requests
    result["script_us_per_request"] = (after[2] - before[2]) / requests
    print(f"  {name}: {result['rps']:,.0f} req/s, p99 {ms(result['p99_us']):.1f} ms")
    return result


def run_admitone(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack, db: str, *,
                 scratch: redis.Redis, redis_pid: list[int]
                 ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """join, status and progress under wrk; a profile of each that misses its aim."""
    sql("postgres", f'CREATE DATABASE "{db}"')
    asyncio.run(_migrate(f"{pg()}/{db}"))
    app = Admitone(args, tmp, stack, db)
    workers = app.server.workers()
    # Each worker apart too: wrk's connections are kept for the whole run, and which worker
    # accepted each one decides how evenly the two are used.
    groups = {"workers": workers, **{f"worker{i + 1}": [pid] for i, pid in enumerate(workers)},
              "redis-server": redis_pid}
    results: dict[str, dict[str, Any]] = {}
    notes: dict[str, Any] = {}

    token_file = tmp / "queue-tokens.txt"  # written by the pre-joins before the status run
    runs = {"join": (f"{app.queue}/join", "queue_plain.lua", ["POST"]),
            "status": (f"{app.queue}/status", "queue_status.lua",
                       [str(token_file), str(args.threads)]),
            "progress": (f"{app.queue}/progress", "queue_plain.lua", ["GET"])}
    on = functools.partial(measure, args=args, groups=groups, scratch=scratch)

    first = app.ticket()
    results["join"] = on("join", *runs["join"])
    notes["join_tickets"] = app.ticket() - first - 1  # fans queued by wrk (warm-up included)

    started = time.monotonic()
    tokens = asyncio.run(_join_many(f"{app.queue}/join", args.visitors))
    notes["prejoin_seconds"] = time.monotonic() - started
    token_file.write_text("\n".join(tokens) + "\n")
    results["status"] = on("status", *runs["status"])

    progress = httpx.get(f"{app.queue}/progress", timeout=10)
    notes["progress_sample"] = (progress.status_code, progress.headers.get("cache-control"),
                                progress.text[:160])
    results["progress"] = on("progress", *runs["progress"])
    notes["stats"] = app.stats()
    notes["token_us"] = token_costs(tmp / "data" / "keys")

    notes["profiles"] = []
    for name, (url, script, extra) in runs.items():
        if args.profile == "always" or (args.profile == "auto" and missed(name, results[name])):
            us = results[name]["cores"]["workers"] * 1e6 / max(1.0, results[name]["rps"])
            notes["profiles"] += profile(name, app.server, url, script, extra, args=args,
                                         tmp=tmp, us_per_request=us)
    notes["error_lines"] = app.error_lines()
    return results, notes


def token_costs(keys: Path, count: int = 300) -> tuple[float, float]:
    """Microseconds to sign one queue token and to verify one not seen before (in this
    process, with the server's keys)."""
    tokens = TokenService(KeyRing.load(keys), "admitone", "admitone-booking")
    binding, show = client_binding("127.0.0.1", USER_AGENT), str(uuid.uuid4())
    started = time.perf_counter()
    issued = [tokens.issue_queue_token(show_id=show, visitor_id=f"v{i}", ticket=i + 1, epoch="e",
                                       binding=binding, ttl_seconds=600) for i in range(count)]
    signed = time.perf_counter()
    for token in issued:
        tokens.verify_queue_token(token, show, binding)
    verified = time.perf_counter()
    return (signed - started) * 1e6 / count, (verified - signed) * 1e6 / count


async def _migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()


def missed(name: str, result: dict[str, Any]) -> bool:
    return result["rps"] < AIMS[name] or ms(result["p99_us"]) >= AIM_P99_MS


# Where a request's worker CPU goes: (label, a frame matching this, and no frame matching that).
LAYERS = [
    ("route handler (admitone + what it awaits)", r"^(join|status|progress) \(admitone/", None),
    ("  Redis script calls (redis-py asyncio)", r"^AsyncScript\.__call__ ", None),
    ("    of which a separate limiter call", r"^RateLimiter\.take ", None),
    ("  queue token signing (HMAC)", r"^TokenService\.issue_queue_token ", None),
    ("  queue token verification", r"^TokenService\._decode_queue_token ", None),
    ("  Ed25519 signing (access tokens)", r"^TokenService\._sign ", None),
    ("  client binding (ipaddress + sha256)", r"^client_binding ", None),
    ("redis-py's deferred socket write", r"^AbstractConnection\._send_packed_command ", None),
    ("response out (ASGIResponse -> uvicorn send)", r"^ASGIResponse\.__call__ ", None),
    ("  Redis pipeline batches (queue/pipelining.py)", r"^ScriptPipeline\._send ", None),
    ("gateway middleware (request id, metrics, bad bytes) outside the route",
     r"^gateway_middleware\.", r"^HTTPRoute\.handle "),
    ("HTTP parsing (uvicorn data_received)", r"^HttpToolsProtocol\.data_received ", None),
]


def profile(name: str, server: Server, url: str, script: str, extra: list[str], *,
            args: argparse.Namespace, tmp: Path, us_per_request: float) -> list[str]:
    """py-spy one worker's event loop during a short extra run of one endpoint; the report."""
    if shutil.which("py-spy") is None:
        return [f"\nno profile of {name}: py-spy is not installed (pip install py-spy)"]
    out = tmp / f"pyspy-{name}.txt"
    with ThreadPoolExecutor(1) as pool:
        load = pool.submit(wrk, url, script, args.profile_seconds + 1, args, extra=extra)
        time.sleep(0.3)
        worker = busiest(server.workers(), 0.4)  # the one holding most of wrk's connections
        spy = subprocess.run(["py-spy", "record", "--pid", str(worker), "--rate", "200",
                              "--duration", str(args.profile_seconds), "--format", "raw",
                              "-o", str(out)], capture_output=True, timeout=args.profile_seconds
                             + 30, check=False)
        run = load.result()
    if not out.exists():
        return [f"\nno profile of {name}: py-spy wrote nothing: {spy.stderr.decode()[-300:]}"]
    if args.profile_dir is not None:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, args.profile_dir / out.name)
    stacks = []
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]  # no line numbers
        if count.isdigit() and frames and "(threading.py)" not in frames[0]:
            stacks.append((frames, int(count)))  # not a helper thread (log queue)
    header = (f"\nprofile of {name}: {run['rps']:,.0f} req/s while py-spy took "
              f"{sum(n for _, n in stacks)} on-CPU samples of worker {worker}'s event loop "
              "(the busier one; 200 Hz, it slows that worker down)")
    return [header, *profile_lines(stacks, us_per_request)]


def busiest(pids: list[int], seconds: float) -> int:
    """The process that used the most CPU over the next ``seconds``."""
    before = {pid: cpu_seconds([pid]) for pid in pids}
    time.sleep(seconds)
    return max(pids, key=lambda pid: cpu_seconds([pid]) - before[pid])


def profile_lines(stacks: list[tuple[list[str], int]], us_per_request: float) -> list[str]:
    leaf, inclusive, package = Counter[str](), Counter[str](), Counter[str]()
    for frames, count in stacks:
        leaf[frames[-1]] += count
        inclusive.update(dict.fromkeys(set(frames), count))
        where = re.search(r"\(([^/)]+)", frames[-1].replace("Runner.run (asyncio", "(uvloop"))
        package[where.group(1).removesuffix(".py") if where else "?"] += count
    total = max(1, sum(leaf.values()))

    def top(counts: list[tuple[str, int]]) -> list[str]:
        return [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in counts]

    def share(want: str, unless: str | None) -> float:
        return sum(n for frames, n in stacks if any(re.search(want, f) for f in frames)
                   and not (unless and any(re.search(unless, f) for f in frames))) / total
    layers = [f"  {100 * share(want, unless):5.1f}%  ~{share(want, unless) * us_per_request:4.0f}"
              f" us  {label}" for label, want, unless in LAYERS]
    ours = [(k, n) for k, n in inclusive.most_common() if "admitone/" in k][:12]
    return [f"where the time goes (inclusive share; us = share x {us_per_request:.0f} us of "
            "worker CPU per request in the measured run):", *layers,
            "by package of the innermost Python frame:", *top(package.most_common(8)),
            "top frames by self time (C calls count in their Python caller):",
            *top(leaf.most_common(12)), "admitone frames by inclusive time:", *top(ours)]


# Report ------------------------------------------------------------------------------------------

def print_report(raw: list[dict[str, Any]], ceiling: dict[str, Any], lua: dict[str, Any],
                 results: dict[str, dict[str, Any]], *, notes: dict[str, Any],
                 args: argparse.Namespace) -> None:
    print(f"\n{'measure':<26}{'rate/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'wkr us':>8}  notes"
          "   (wkr us: the HTTP workers' CPU microseconds per request)")
    for row in raw:
        print(f"{'redis: ' + row['name']:<26}{row['rate']:>9,.0f}{row['p50_ms']:>8.2f}"
              f"{row['p99_ms']:>8.2f}{'':>8}  redis-benchmark, {args.redis_clients} clients, "
              "unpipelined")
    evalsha = raw[-1]["rate"]
    rows = [("ceiling: trivial GET", ceiling, ""), ("one Lua call: POST /lua", lua, "")]
    rows += [(f"admitone: {name}", row, f"script calls/req {row['scripts_per_request']:.2f}, "
              f"commands/req {row['commands_per_request']:.1f} (incl. inside scripts), "
              f"script us/req {row['script_us_per_request']:.1f} (Redis's own time); ")
             for name, row in results.items()]
    for name, row, redis_note in rows:
        print(f"{name:<26}{row['rps']:>9,.0f}{ms(row['p50_us']):>8.2f}{ms(row['p99_us']):>8.2f}"
              f"{row['cores']['workers'] * 1e6 / max(1.0, row['rps']):>8.0f}  non-2xx "
              f"{row['non2xx']}, socket errors {row['socket_errors']}")
        print(f"{'':<59}{redis_note}{cores_note(row)}")
    status = results["status"]
    print(f"\njoin: {notes['join_tickets']:,} tickets given out while wrk completed "
          f"{results['join']['requests']:,} joins (+ warm-up)")
    print(f"status: {args.visitors:,} fans pre-joined in {notes['prejoin_seconds']:.1f} s; answers "
          f"WAITING {status['waiting']:,}, ADMITTED {status['admitted']:,} (token signed), 410 "
          f"{status['gone']}, 401 {status['unauthorized']}, 5xx {status['server_errors']}, other "
          f"{status['other']}")
    sign_us, verify_us = notes["token_us"]
    print("  each worker caches verified queue tokens (LRU): wrk cycles the same "
          f"{args.visitors:,}, so after the first pass every check is a cache hit. In this "
          f"process an uncached check costs {verify_us:.0f} us, signing one (every join) "
          f"{sign_us:.0f} us")
    code, cache, body = notes["progress_sample"]
    print(f"progress: as served (in-process 1 s cache, no CDN): {code}, Cache-Control {cache!r}, "
          f"{body}")
    stats = notes["stats"]
    print(f"room at the end: waiting {stats.get('waiting')}, active {stats.get('active')}, "
          f"admitted {stats.get('admittedTotal')}, abandoned {stats.get('abandonedTotal')}; "
          f"server log error lines {notes['error_lines']}")
    print("\nratios (admitone req/s over ...):")
    for name, row in results.items():
        print(f"  {name:<9} ceiling {row['rps'] / ceiling['rps']:.3f}   one-Lua-call app "
              f"{row['rps'] / lua['rps']:.3f}   raw EVALSHA {row['rps'] / evalsha:.3f}   "
              f"raw GET {row['rps'] / raw[1]['rate']:.3f}")
    print(f"  one-Lua-call app / ceiling {lua['rps'] / ceiling['rps']:.3f}, / raw EVALSHA "
          f"{lua['rps'] / evalsha:.3f}")
    print("\naims:")
    for name, row in results.items():
        verdict = "MISSED" if missed(name, row) else "MET"
        print(f"  {name:<9} >= {AIMS[name]:,} req/s and p99 < {AIM_P99_MS:.0f} ms: {verdict}")
    print(f"load average (1/5/15 min) at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if notes["profiles"]:
        print("\n".join(notes["profiles"]))


def run_memory(args: argparse.Namespace) -> bool:
    """bench/queue_memory.py on the same Redis db (flushed after it); whether it succeeded."""
    command = [sys.executable, str(BENCH / "queue_memory.py"), "--redis",
               f"redis://127.0.0.1:{redis_port()}/{args.redis_db}", "--fans", str(args.memory_fans)]
    if not args.memory:
        print("\nmemory per fan at 1,000,000 fans and tick time (~75 s): rerun with --memory, "
              f"or python bench/queue_memory.py {' '.join(command[2:])}")
        return True
    print(f"\nmemory: bench/queue_memory.py, {args.memory_fans:,} fans "
          f"(~{75 * args.memory_fans / 1e6:.0f} s)", flush=True)
    scratch = redis.Redis(host="127.0.0.1", port=redis_port(), db=args.redis_db, socket_timeout=5)
    try:
        done = subprocess.run(command, timeout=600, check=False)
    finally:
        quietly("flush the redis db", scratch.flushdb)
        scratch.close()
    if done.returncode != 0:
        print(f"FAILURE: queue_memory.py exited with {done.returncode}")
    return done.returncode == 0


def bad(results: dict[str, dict[str, Any]], *others: dict[str, Any]) -> bool:
    status = results["status"]
    return (any(row["non2xx"] or row["socket_errors"] for row in (*results.values(), *others))
            or bool(status["server_errors"] or status["other"] or status["unauthorized"]))


def main() -> int:
    args = parse_args()
    planned = planned_load(args)
    if planned > MAX_LOAD_SECONDS:
        print(f"refusing: {planned:.0f} s of load planned, the limit is {MAX_LOAD_SECONDS} s")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up when killed, too
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    db = f"admitone_queue_bench_{os.getpid()}"
    print(f"queue bench: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
          f"{args.workers} workers, {args.connections} connections, {args.threads} wrk threads, "
          f"at most ~{planned:.0f} s of load")
    print("  admitone runs with ADMITONE_QUEUE_JOIN_RATE_PER_SECOND=1000000 and "
          "ADMITONE_QUEUE_JOIN_BURST=1000000: wrk is one client IP, the per-IP join limit is "
          "lifted")
    tmp = Path(tempfile.mkdtemp(prefix="admitone-queue-bench-"))
    scratch = redis.Redis(host="127.0.0.1", port=redis_port(), db=args.redis_db, socket_timeout=5)
    with contextlib.ExitStack() as stack:  # callbacks run last-in first-out, always
        stack.callback(quietly, "remove the temp dir", lambda: shutil.rmtree(tmp))
        stack.callback(scratch.close)
        stack.callback(quietly, "flush the redis db", scratch.flushdb)
        drop = f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'
        stack.callback(quietly, f"drop {db}", functools.partial(sql, "postgres", drop))
        scratch.flushdb()
        redis_pid = [int(scratch.info("server")["process_id"])]
        print("1/4 raw Redis: redis-benchmark")
        raw = run_raw(args, scratch)
        print("2/4 framework ceiling: trivial Litestar endpoint")
        ceiling = run_ceiling(args, tmp, stack)
        print(f"  {ceiling['rps']:,.0f} req/s")
        print("3/4 one Lua call: bench/lua_app.py")
        lua = run_lua_app(args, tmp, stack, redis_pid)
        print(f"  {lua['rps']:,.0f} req/s")
        scratch.flushdb()
        print("4/4 `admitone up`: queue join, status, progress")
        results, notes = run_admitone(args, tmp, stack, db, scratch=scratch,
                                      redis_pid=redis_pid)
    # Everything above is stopped, dropped and flushed by now.
    print_report(raw, ceiling, lua, results, notes=notes, args=args)
    memory_ok = run_memory(args)
    return 1 if bad(results, ceiling, lua) or not memory_ok else 0

if __name__ == "__main__":
    sys.exit(main())
