"""The booking-core benchmark: the database's limit, the framework's ceiling, admitone's lock.

pgbench on the raw seat UPDATE, wrk on a trivial Litestar app and on `admitone up`'s lock endpoint,
all on 127.0.0.1, then a py-spy profile if the lock misses its aim. Cleans up even on failure.
What each number means: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import msgspec
import redis
import structlog

from admitone.admission.signing_keys import KeyRing
from admitone.admission.tokens import TokenService
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.models import (
    MovieIn,
    ScreenIn,
    ShowIn,
    TheaterIn,
)
from admitone.db.migrate import migrate

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
ROWS, PER_ROW = 25, 20
SEATS = ROWS * PER_ROW
AIM_LOCKS, AIM_P99_MS = 3000, 50.0
MAX_LOAD_SECONDS = 90
MOVIE = {"title": "Bench", "durationMinutes": 120, "language": "en", "genre": "Drama"}
THEATER = {"name": "Bench Hall", "city": "Benchville", "address": "1 Bench Street"}
SCREEN = {"name": "Hot", "layout": {"rows": [{"name": chr(65 + r), "seats": PER_ROW}
                                             for r in range(ROWS)]}}
# pgbench: one cycle = the conditional lock of a random seat, then the release of that lock.
PICK = f"\\set seat random(0, {SEATS - 1})\n\\set n random(1, 2000000000)\n"
SEAT = f"chr(65 + :seat::int / {PER_ROW}) || (:seat::int % {PER_ROW} + 1)::text"
LOCK, WHO = "md5(:client_id::text || '/' || :n::text)::uuid", "'pgbench-' || :client_id::text"
RAW_SCRIPT = PICK + f"""UPDATE show_seats SET status = 'LOCKED', holder = {WHO}, lock_id = {LOCK},
       locked_until = now() + interval '10 min', version = version + 1, updated_at = now()
 WHERE show_id = 'SHOW' AND seat_id = {SEAT} AND (status = 'AVAILABLE' OR locked_until < now());
UPDATE show_seats SET status = 'AVAILABLE', holder = NULL, lock_id = NULL, locked_until = NULL,
       version = version + 1, updated_at = now()
 WHERE show_id = 'SHOW' AND seat_id = {SEAT} AND lock_id = {LOCK};
"""  # noqa: S608 - a pgbench script; SHOW becomes the uuid of the show this script made
FUNCTIONS_SCRIPT = PICK + f"""SELECT count(*) FROM admitone_lock_seats('SHOW', ARRAY[{SEAT}], {WHO},
       {LOCK}, 600, '', 0);
SELECT count(*) FROM admitone_release_lock({LOCK}, {WHO});
"""  # noqa: S608 - likewise
# Every client loses the race for one seat that a long lock holds: what a 409 costs the database.
LOST_SEAT = "A1"
LOST_SCRIPT = "\\set n random(1, 2000000000)\n" + f"""SELECT count(*)
  FROM admitone_lock_seats('SHOW', ARRAY['{LOST_SEAT}'], {WHO}, {LOCK}, 600, '', 0);
"""  # noqa: S608 - likewise


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--duration", type=int, default=10, help="seconds of each wrk measurement (default 10)")
    add("--connections", type=int, default=32, help="wrk connections (default 32)")
    add("--threads", type=int, default=2, help="wrk and pgbench threads (default 2)")
    add("--workers", type=int, default=int(os.environ.get("ADMITONE_WORKERS", "2")),
        help="HTTP workers of both apps (default $ADMITONE_WORKERS, else 2: this machine's cores)")
    add("--pg-duration", type=int, default=5, help="seconds of each pgbench run (default 5)")
    add("--pg-clients", default="8,32", help="pgbench client counts (default 8,32)")
    add("--hot-seats", type=int, default=SEATS,
        help=f"locks pick among this many seats of the {SEATS}: fewer means more 409s")
    add("--warmup", type=int, default=2, help="unmeasured seconds before each wrk run (default 2)")
    add("--redis-db", type=int, default=12, help="Redis db on 127.0.0.1:6379 (flushed; default 12)")
    add("--server", choices=["uvicorn", "granian"], default="uvicorn",
        help="the ASGI server of admitone and of the trivial ceiling (ADMITONE_HTTP_SERVER)")
    add("--lock-batch", type=int, default=None,
        help="ADMITONE_LOCK_BATCH of admitone (largest batch of concurrent locks of a show; "
             "0 = every lock its own call); default: admitone's default")
    add("--profile", choices=["auto", "always", "never"], default="auto",
        help="py-spy a short extra lock run: when the aim is missed (auto), always, or never")
    add("--profile-seconds", type=int, default=5, help="seconds of the profiled run (default 5)")
    add("--only-pg", action="store_true",
        help="step 1 alone (pgbench: raw cycles, the seat functions, lost races), then stop")
    return parser.parse_args()


def pg() -> str:
    """The PostgreSQL server every benchmark uses, without a database: the machine's on
    127.0.0.1:5432, or ``$BENCH_PG_URL`` (run_all.py sets it with ``--own-postgres``)."""
    return os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")


def redis_port() -> int:
    """The Redis on 127.0.0.1 every benchmark uses: 6379, or ``$BENCH_REDIS_PORT`` (run_all.py
    sets it when it starts a Redis of its own with ``--own-redis``)."""
    return int(os.environ.get("BENCH_REDIS_PORT", "6379"))


def ms(us: float) -> float:
    return us / 1000.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def quietly(what: str, action: Callable[[], object]) -> None:
    """One clean-up step: a failure is printed and never stops the other steps."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - clean-up reports and carries on
        print(f"  clean-up: {what} failed: {exc}", file=sys.stderr)


def sql(db: str, query: str, *params: object) -> list[Any]:
    """One statement on a fresh connection (simple protocol without params, for DDL)."""
    async def run() -> list[Any]:
        conn = await asyncpg.connect(f"{pg()}/{db}")
        try:
            return await conn.fetch(query, *params) if params else [await conn.execute(query)]
        finally:
            await conn.close()
    return asyncio.run(run())


def show_payload(movie_id: str, screen_id: str) -> dict[str, Any]:
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    return {"movieId": movie_id, "screenId": screen_id, "showTime": when, "basePrice": "250.00",
            "currency": "INR"}


async def _seed(dsn: str) -> str:
    """Migrate the scratch database and create the hot show in-process; return its id."""
    conn = await asyncpg.connect(dsn)
    await migrate(conn)  # on failure the dropped database takes the connection with it
    await conn.close()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        catalog = CatalogService(pool, 10)
        movie = await catalog.create_movie(msgspec.convert(MOVIE, MovieIn))
        theater = await catalog.create_theater(msgspec.convert(THEATER, TheaterIn))
        screen = await catalog.create_screen(theater.id, msgspec.convert(SCREEN, ScreenIn))
        show = await catalog.create_show(
            msgspec.convert(show_payload(movie.id, screen.id), ShowIn, strict=False))
        return show.id
    finally:
        await pool.close()


def pgbench(db: str, script: Path, mode: str, clients: int, *, args: argparse.Namespace,
            tmp: Path) -> dict[str, Any]:
    prefix = tmp / f"pgb-{script.stem}-{mode}-{clients}"
    server = urlsplit(pg())
    cmd = ["pgbench", "-n", "-h", server.hostname or "127.0.0.1", "-p", str(server.port or 5432),
           "-U", server.username or "postgres", "-M", mode,
           "-c", str(clients), "-j", str(min(args.threads, clients)), "-T", str(args.pg_duration),
           "-f", str(script), "-l", "--sampling-rate", "0.2", f"--log-prefix={prefix}", db]
    # The embedded server (run_all.py --own-postgres) has a password; pgbench reads it here.
    env = {**os.environ, **({"PGPASSWORD": server.password} if server.password else {})}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.pg_duration + 60,
                          check=False, env=env)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if done.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr.strip()[-600:]}")
    latencies = sorted(float(line.split()[2]) for log in tmp.glob(f"{prefix.name}.*")
                       for line in log.read_text().splitlines() if line.strip()) or [0.0]
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    return {"rate": float(tps.group(1)), "p50_us": latencies[len(latencies) // 2],
            "p99_us": latencies[len(latencies) * 99 // 100], "aborted": "aborted" in done.stdout,
            "failed": int(failed.group(1)) if failed else 0}


class Server:
    """A server in a process group (session) of its own, stopped by that group's id."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int, tmp: Path):
        self.name, self.cmd, self.env, self.port = name, cmd, env, port
        self.log = tmp / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, health_path: str, workers: int) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=ROOT, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        url, deadline = f"http://127.0.0.1:{self.port}{health_path}", time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1).is_success and len(self.workers()) >= workers:
                    return
            time.sleep(0.3)
        tail = " | ".join(self.log.read_text(errors="replace").splitlines()[-8:])
        raise RuntimeError(f"{self.name} did not start (exit code {self.proc.poll()}): {tail}")

    def workers(self) -> list[int]:
        """The HTTP worker processes: uvicorn's spawned children or granian's forked ones (not
        multiprocessing's resource tracker, nor `up`'s jobs process), or the server itself."""
        assert self.proc is not None  # noqa: S101 - only called once started
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        children = [int(p) for p in path.read_text().split()] if path.exists() else []
        lines = {p: Path(f"/proc/{p}/cmdline").read_bytes() for p in children}
        spawned = [p for p, line in lines.items() if b"spawn_main" in line]
        forked = [p for p, line in lines.items()
                  if b"resource_tracker" not in line and b"admitone.cli\x00jobs" not in line]
        return spawned or forked or [self.proc.pid]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the group is ours alone
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far: each pid group, our finished children (wrk), the whole machine."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # idle, iowait out
    return {**{k: cpu_seconds(v) for k, v in groups.items()}, "wrk": kids.ru_utime + kids.ru_stime,
            "machine": busy, "wall": time.monotonic()}


def wrk(url: str, script: str, seconds: int, args: argparse.Namespace, *,
        extra: list[str] | None = None, groups: dict[str, list[int]] | None = None
        ) -> dict[str, Any]:
    cmd = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s",
           "--timeout", "5s", "-s", str(BENCH / script), url, *(["--", *extra] if extra else [])]
    before = cpu_snapshot(groups or {})
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    after = cpu_snapshot(groups or {})
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-600:]}")
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    wall = after["wall"] - before["wall"]
    result["cores"] = {k: (after[k] - before[k]) / wall for k in after if k != "wall"}
    return result


def cores_note(result: dict[str, Any]) -> str:
    return "cores: " + ", ".join(f"{k} {v:.2f}" for k, v in result["cores"].items())


def run_database(args: argparse.Namespace, tmp: Path, db: str) -> list[tuple[str, dict[str, Any]]]:
    show_id = asyncio.run(_seed(f"{pg()}/{db}"))
    raw, functions = tmp / "raw.sql", tmp / "functions.sql"
    raw.write_text(RAW_SCRIPT.replace("SHOW", show_id))
    functions.write_text(FUNCTIONS_SCRIPT.replace("SHOW", show_id))
    lost = tmp / "lost.sql"
    lost.write_text(LOST_SCRIPT.replace("SHOW", show_id))
    clients = [int(c) for c in args.pg_clients.split(",")]
    runs = [(f"raw {mode} c={c}", raw, mode, c) for c in clients for mode in ("simple", "prepared")]
    runs.append((f"seat functions prep. c={max(clients)}", functions, "prepared", max(clients)))
    runs.append((f"lost races prep. c={max(clients)}", lost, "prepared", max(clients)))
    rows = []
    for name, script, mode, count in runs:
        sql(db, "VACUUM show_seats, seat_locks")  # each run starts without the last one's bloat
        if script is lost:  # the seat every client of this run tries and loses
            sql(db, "SELECT * FROM admitone_lock_seats($1, $2, 'holder', gen_random_uuid(),"
                " 3600, '', 0)", uuid.UUID(show_id), [LOST_SEAT])
        rows.append((name, pgbench(db, script, mode, count, args=args, tmp=tmp)))
        print(f"  {name}: {rows[-1][1]['rate']:,.0f} cycles/s")
    return rows


def server_command(server: str, app: str, port: int, workers: int) -> list[str]:
    """A bench app (``module:app`` in bench/) served as admitone.cli serves admitone, by uvicorn
    or granian (``ADMITONE_HTTP_SERVER``), so a ceiling and admitone are measured alike."""
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--working-dir", str(BENCH),
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--loop", "uvloop", "--no-ws", "--log-level", "warning", app]
    return [sys.executable, "-m", "uvicorn", app, "--app-dir", str(BENCH), "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--loop", "uvloop", "--http",
            "httptools", "--no-access-log", "--log-level", "warning",
            "--timeout-graceful-shutdown", "10"]


def run_ceiling(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> dict[str, Any]:
    port = free_port()
    cmd = server_command(getattr(args, "server", "uvicorn"), "trivial_app:app", port, args.workers)
    server = Server("trivial", cmd, dict(os.environ), port, tmp)
    stack.callback(quietly, "stop the trivial app", server.stop)
    server.start("/ping", args.workers)
    url = f"http://127.0.0.1:{port}/ping"
    if args.warmup:
        wrk(url, "summary.lua", args.warmup, args)
    result = wrk(url, "summary.lua", args.duration, args, groups={"workers": server.workers()})
    server.stop()
    return {**result, "rate": result["rps"]}


def setup_show(base: str, operator_token: str) -> str:
    """Create the hot show through the operator API; return its id."""
    with httpx.Client(base_url=base, timeout=10,
                      headers={"Authorization": f"Bearer {operator_token}"}) as client:
        def post(path: str, body: dict[str, Any]) -> str:
            answer = client.post(f"/api/v1/admin{path}", json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"POST {path} -> {answer.status_code} {answer.text[:300]}")
            return str(answer.json()["id"])
        movie, theater = post("/movies", MOVIE), post("/theaters", THEATER)
        return post("/shows", show_payload(movie, post(f"/theaters/{theater}/screens", SCREEN)))


def mint_tokens(data_dir: Path, show_id: str, threads: int, path: Path) -> None:
    """One access token per (wrk thread, seat), signed with the server's own keys."""
    tokens = TokenService(KeyRing.load(data_dir / "keys"), "admitone", "admitone-booking")
    expires = int(time.time()) + 3600
    path.write_text("".join(
        tokens.issue_access_token(show_id=show_id, visitor_id=f"bench-{t}-{s}",
                                  expires_at=expires) + "\n"
        for t in range(threads) for s in range(SEATS)))


def run_admitone(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack,
                 db: str) -> tuple[dict[str, Any], list[str]]:
    sql("postgres", f'CREATE DATABASE "{db}"')
    data_dir, port, operator_token = tmp / "data", free_port(), secrets.token_urlsafe(24)
    KeyRing.load(data_dir / "keys")  # made once here: the tokens below are signed with it
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMITONE_")}
    env["ADMITONE_SANDBOX_PAYMENTS"] = "1"  # they pay in the sandbox (development mode)
    env.update(ADMITONE_DATABASE_URL=f"{pg()}/{db}", ADMITONE_DATA_DIR=str(data_dir),
               ADMITONE_REDIS_URL=f"redis://127.0.0.1:{redis_port()}/{args.redis_db}",
               ADMITONE_OPERATOR_TOKEN=operator_token, ADMITONE_BACKGROUND_JOBS="1",
               ADMITONE_WORKERS=str(args.workers), ADMITONE_HOST="127.0.0.1",
               ADMITONE_PORT=str(port), ADMITONE_HTTP_SERVER=args.server)
    if args.lock_batch is not None:
        env["ADMITONE_LOCK_BATCH"] = str(args.lock_batch)
    server = Server("admitone", [sys.executable, "-m", "admitone.cli", "up"], env, port, tmp)
    stack.callback(quietly, "stop admitone", server.stop)
    server.start("/healthz", args.workers)
    base, tokens = f"http://127.0.0.1:{port}", tmp / "tokens.txt"
    show_id = setup_show(base, operator_token)
    mint_tokens(data_dir, show_id, args.threads, tokens)
    extra = [show_id, str(tokens), str(SEATS), str(PER_ROW), str(args.hot_seats)]
    release_all = ("SELECT count(*) FROM seat_locks l, admitone_release_lock(l.id, l.visitor_id)"
                   " WHERE l.status = $1")
    if args.warmup:
        wrk(base, "lock_release.lua", args.warmup, args, extra=extra)
        sql(db, release_all, "ACTIVE")
    backends = [r["pid"] for r in sql("postgres", "SELECT pid FROM pg_stat_activity"
                                                  " WHERE datname = $1", db)]
    # Transactions of our database during the run (the statistics lag by up to half a second).
    commits = "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1"
    before = sql(db, commits, db)[0]["n"]
    result = wrk(base, "lock_release.lua", args.duration, args, extra=extra,
                 groups={"workers": server.workers(), "postgres (our db)": backends})
    time.sleep(0.6)
    result["transactions"] = int(sql(db, commits, db)[0]["n"]) - int(before)
    result["rate"] = result["locked"] / (result["duration_us"] / 1e6)
    report: list[str] = []
    missed = result["rate"] < AIM_LOCKS or ms(result["p99_us"]) >= AIM_P99_MS
    if args.profile == "always" or (args.profile == "auto" and missed):
        sql(db, release_all, "ACTIVE")
        report = profile(server, base, extra, args, tmp)
    result["error_lines"] = sum('"level":"error"' in ln.replace(" ", "") or "Traceback" in ln
                                for ln in server.log.read_text(errors="replace").splitlines())
    return result, report


def profile(server: Server, url: str, extra: list[str], args: argparse.Namespace,
            tmp: Path) -> list[str]:
    """py-spy the workers' event loops during a short extra lock run; the report's lines."""
    assert server.proc is not None  # noqa: S101 - running
    if shutil.which("py-spy") is None:
        return ["no profile: py-spy is not installed (pip install py-spy)"]
    out, workers = tmp / "pyspy.txt", set(server.workers())
    spy = subprocess.Popen(["py-spy", "record", "--pid", str(server.proc.pid), "--subprocesses",
                            "--rate", "200", "--duration", str(args.profile_seconds + 1),
                            "--format", "raw", "-o", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # let py-spy attach to every worker
    try:
        run = wrk(url, "lock_release.lua", args.profile_seconds, args, extra=extra)
    finally:
        _, err = spy.communicate(timeout=args.profile_seconds + 30)
    if not out.exists():
        return [f"no profile: py-spy wrote nothing: {err.decode(errors='replace')[-300:]}"]
    leaf, inclusive, package = Counter[str](), Counter[str](), Counter[str]()
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        chain = re.match(r'(?:process (\d+):"[^"]*";)+', stack)  # supervisor;worker;frames
        if chain is None or int(chain.group(1)) not in workers or not count.isdigit():
            continue  # the supervisor or its resource tracker
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack[chain.end():].split(";")]  # no line
        if "(threading.py)" in frames[0]:
            continue  # a helper thread (log queue, supervisor pong), not the event loop
        leaf[frames[-1]] += int(count)
        inclusive.update(dict.fromkeys(set(frames), int(count)))
        where = re.search(r"\(([^/)]+)", frames[-1].replace("Runner.run (asyncio", "(uvloop"))
        package[where.group(1).removesuffix(".py") if where else "?"] += int(count)
    total = max(1, sum(leaf.values()))

    def top(counts: list[tuple[str, int]]) -> list[str]:
        return [f"  {100 * n / total:5.1f}%  {name}" for name, n in counts]
    ours = [(k, n) for k, n in inclusive.most_common() if "admitone/" in k][:15]
    return [f"\nprofile: {run['locked'] / args.profile_seconds:,.0f} locks/s while py-spy took "
            f"{total} on-CPU samples of the workers' event loops (200 Hz; it slows them down)",
            "by package of the innermost Python frame:", *top(package.most_common(10)),
            "top frames by self time:", *top(leaf.most_common(15)),
            "admitone frames by inclusive time:", *top(ours)]


def print_database_rows(db_rows: list[tuple[str, dict[str, Any]]]) -> None:
    print(f"\n{'measure':<30}{'rate/s':>9}{'p50 ms':>8}{'p99 ms':>8}  notes")
    for name, row in db_rows:
        print(f"{name:<30}{row['rate']:>9,.0f}{ms(row['p50_us']):>8.2f}{ms(row['p99_us']):>8.2f}"
              f"  cycles (= {2 * row['rate']:,.0f} statements/s); failed {row['failed']}"
              + (" ABORTED" if row["aborted"] else ""))


def print_table(db_rows: list[tuple[str, dict[str, Any]]], ceiling: dict[str, Any],
                lock: dict[str, Any], profile_lines: list[str]) -> None:
    print_database_rows(db_rows)
    print(f"{'ceiling: trivial GET':<30}{ceiling['rate']:>9,.0f}{ms(ceiling['p50_us']):>8.2f}"
          f"{ms(ceiling['p99_us']):>8.2f}  non-2xx {ceiling['non2xx']}; {cores_note(ceiling)}")
    print(f"{'admitone: locks won':<30}{lock['rate']:>9,.0f}{ms(lock['p50_us']):>8.2f}"
          f"{ms(lock['p99_us']):>8.2f}  latency of all {lock['rps']:,.0f} req/s (lock+release)")
    print(f"  locked {lock['locked']}, conflicts (409) {lock['conflicts']}, released "
          f"{lock['released']}, 5xx {lock['server_errors']}, other {lock['other']}, socket errors "
          f"{lock['socket_errors']}, server log error lines {lock['error_lines']}")
    print(f"  {cores_note(lock)} of {os.cpu_count()}")
    print(f"  PostgreSQL transactions per request (lock or release): "
          f"{lock['transactions'] / max(1, lock['requests']):.2f}")
    raw = [item for item in db_rows if item[0].startswith("raw")]
    best_name, best = max(raw, key=lambda item: item[1]["rate"])
    functions = next(row["rate"] for name, row in db_rows if name.startswith("seat functions"))
    print(f"ratios: lock/ceiling {lock['rate'] / ceiling['rate']:.3f} (HTTP requests "
          f"{lock['rps'] / ceiling['rate']:.3f}); lock/raw {lock['rate'] / best['rate']:.3f} "
          f"(vs {best_name}); lock/seat functions {lock['rate'] / functions:.3f}")
    met = lock["rate"] >= AIM_LOCKS and ms(lock["p99_us"]) < AIM_P99_MS
    print(f"aim >= {AIM_LOCKS:,} locks/s, p99 < {AIM_P99_MS:.0f} ms: {'MET' if met else 'MISSED'}")
    if lock["server_errors"] or lock["other"] or lock["socket_errors"]:
        print("FAILURE: admitone answered 5xx, unexpected statuses or dropped connections")
    print("\n".join(profile_lines))


def print_function_ratio(db_rows: list[tuple[str, dict[str, Any]]]) -> None:
    """The seat functions' cycles as a share of the best raw cycle of the same run."""
    raw = [item for item in db_rows if item[0].startswith("raw")]
    best_name, best = max(raw, key=lambda item: item[1]["rate"])
    functions = next(row["rate"] for name, row in db_rows if name.startswith("seat functions"))
    print(f"ratio: seat functions/raw {functions / best['rate']:.3f} (vs {best_name})")


def main() -> int:
    args = parse_args()
    http = 0 if args.only_pg else 2 * args.warmup + 2 * args.duration + args.profile_seconds
    planned = len(args.pg_clients.split(",")) * 2 * args.pg_duration + 2 * args.pg_duration + http
    if planned > MAX_LOAD_SECONDS:
        print(f"refusing: {planned} s of load planned, the limit is {MAX_LOAD_SECONDS} s")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up when killed, too
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    tag = f"admitone_bench_{os.getpid()}"
    print(f"booking bench: {os.cpu_count()} cores, {args.workers} workers, {args.connections} "
          f"connections, {args.threads} wrk threads, {args.hot_seats} hot seats, at most "
          f"{planned} s of load")
    tmp = Path(tempfile.mkdtemp(prefix="admitone-bench-"))
    with contextlib.ExitStack() as stack:  # callbacks run last-in first-out, always
        stack.callback(quietly, "remove the temp dir", lambda: shutil.rmtree(tmp))
        scratch = redis.Redis(host="127.0.0.1", port=redis_port(), db=args.redis_db,
                              socket_timeout=5)
        stack.callback(scratch.close)
        stack.callback(quietly, "flush the redis db", scratch.flushdb)
        for name in (tag + "_raw", tag + "_app"):
            drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            stack.callback(quietly, f"drop {name}", functools.partial(sql, "postgres", drop))
        scratch.flushdb()
        print("1/3 database limit: pgbench, one lock + its release per cycle")
        sql("postgres", f'CREATE DATABASE "{tag}_raw"')
        db_rows = run_database(args, tmp, tag + "_raw")
        if args.only_pg:
            print_database_rows(db_rows)
            print_function_ratio(db_rows)
            return 0
        print("2/3 framework ceiling: trivial Litestar endpoint")
        ceiling = run_ceiling(args, tmp, stack)
        print(f"  {ceiling['rate']:,.0f} req/s")
        print("3/3 `admitone up` (ADMITONE_BACKGROUND_JOBS=1, as `up` runs): lock + release")
        lock, profile_lines = run_admitone(args, tmp, stack, tag + "_app")
        print(f"  {lock['rate']:,.0f} locks/s")
    print_table(db_rows, ceiling, lock, profile_lines)
    bad = lock["server_errors"] or lock["other"] or lock["socket_errors"] or ceiling["non2xx"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
