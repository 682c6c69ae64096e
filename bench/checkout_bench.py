"""Complete bookings per second for one show: lock -> checkout -> signed sandbox webhook ->
CONFIRMED, by 32 concurrent buyers on a 5,000-seat show until it is sold out, then a check
that every seat was sold exactly once.

    python bench/checkout_bench.py --workers 1      # then --workers 2; bench/run_all.py runs both

Starts its own ``admitone up`` (background jobs on, sandbox payments) on a scratch database and
Redis db, makes the show through the operator API (no waiting room: its buyers are handed
access tokens signed with the server's own keys, as booking_bench.py does), and drives it over
keep-alive HTTP/1.1 connections (``loadtests/swarm.py``'s client). Each buyer is a new visitor
per booking (one visitor may hold at most 10 seats): it picks 1-4 seats it believes free, locks
them (a 409 drops the taken ones from its view and it picks again), checks out with an
``Idempotency-Key``, and completes the sandbox payment, whose signed webhook confirms the
booking before the answer returns. Every connection goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from booking_bench import (
    ROOT,
    Server,
    cpu_seconds,
    free_port,
    pg,
    quietly,
    redis_port,
    show_payload,
    sql,
)

if str(ROOT) not in sys.path:  # loadtests/ is a folder of the repository, not a package
    sys.path.append(str(ROOT))

from admitone.admission.signing_keys import KeyRing
from admitone.admission.tokens import TokenService
from admitone.db.migrate import migrate
from loadtests import check
from loadtests.swarm import Connection, HttpError

ROWS, PER_ROW = 50, 100  # 5,000 seats
BUYERS = 32
MAX_SECONDS = 240
MOVIE = {"title": "Checkout bench", "durationMinutes": 120, "language": "en", "genre": "Drama"}
THEATER = {"name": "Checkout Hall", "city": "Benchville", "address": "2 Bench Street"}


def _row(index: int) -> str:
    return chr(65 + index // 26 - 1) + chr(65 + index % 26) if index >= 26 else chr(65 + index)


def screen(rows: int) -> dict[str, Any]:
    return {"name": "Big", "layout": {"rows": [{"name": _row(r), "seats": PER_ROW}
                                              for r in range(rows)]}}


def seat_ids(rows: int) -> list[str]:
    return [f"{_row(r)}{n}" for r in range(rows) for n in range(1, PER_ROW + 1)]


@dataclass
class Outcome:
    confirmed: int = 0
    seats: int = 0
    conflicts: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    sold: dict[str, str] = field(default_factory=dict)  # seat -> booking, as the answers said

    def fail(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


class Buyers:
    """``own_views``: each buyer believes its own copy of the map (loaded once, as a fan's page
    does) and, on a 409, tries the alternatives offered before its own guesses: the way racing
    fans really meet. Without it all buyers share one perfect view, and a 409 is rare."""

    def __init__(self, port: int, show_id: str, tokens: TokenService, seats: list[str],
                 *, own_views: bool = False) -> None:
        self.port, self.show_id, self.tokens = port, show_id, tokens
        self.seats = seats
        self.free = set(seats)  # what the buyers believe is still free
        self.own_views = own_views
        self.outcome = Outcome()
        self.rng = random.Random(7)

    def _token(self) -> str:
        return self.tokens.issue_access_token(
            show_id=self.show_id, visitor_id=f"buyer-{secrets.token_hex(6)}",
            expires_at=int(time.time()) + 3600)

    async def buyer(self, deadline: float) -> None:
        conn = Connection("127.0.0.1", self.port)
        view = set(self.seats) if self.own_views else self.free
        try:
            while view and self.free and time.monotonic() < deadline:
                try:
                    await self.buy(conn, view)
                except HttpError as exc:
                    self.outcome.fail(exc.args[0][:60])
        finally:
            conn.close()

    async def buy(self, conn: Connection, view: set[str]) -> None:
        auth = {"Authorization": f"Bearer {self._token()}", "Content-Type": "application/json"}
        started = time.monotonic()
        lock: dict[str, Any] = {}
        offered: list[str] = []
        while not lock:
            if not view or not self.free:
                return
            count = min(len(view), self.rng.randint(1, 4))
            wanted = offered or self.rng.sample(sorted(view), count)
            status, _, body = await conn.request("POST", "/api/v1/bookings/lock", auth, json.dumps(
                {"showId": self.show_id, "seatIds": wanted}).encode())
            answer = json.loads(body) if body else {}
            if status == 409:
                self.outcome.conflicts += 1
                taken = answer.get("unavailableSeats") or wanted
                view -= {seat["id"] if isinstance(seat, dict) else seat for seat in taken}
                offered = list(answer.get("alternativeSeats") or []) if self.own_views else []
                continue
            if status != 200:
                self.outcome.fail(f"lock {status} {answer.get('error', '')}")
                return
            lock = answer
        view -= set(wanted)
        self.free -= set(wanted)
        status, _, body = await conn.request(
            "POST", "/api/v1/bookings", {**auth, "Idempotency-Key": str(uuid.uuid4())},
            json.dumps({"lockId": lock["lockId"], "paymentMethod": "CARD",
                        # one buyer per fan: the seat limit counts seats per e-mail
                        "email": f"buyer-{uuid.uuid4().hex[:12]}@example.com"}).encode())
        booking = json.loads(body) if body else {}
        if status != 201:
            self.outcome.fail(f"checkout {status} {booking.get('error', '')}")
            return
        status, _, body = await conn.request(
            "POST", f"/sandbox/payments/{booking['paymentId']}/complete",
            {**auth, "Content-Type": "application/json"}, b'{"outcome": "SUCCESS"}')
        paid = json.loads(body) if body else {}
        if status != 200 or paid.get("delivery") != "DELIVERED":
            self.outcome.fail(f"pay {status} {paid.get('delivery', paid.get('error', ''))}")
            return
        self.outcome.latencies_ms.append((time.monotonic() - started) * 1000)
        self.outcome.confirmed += 1
        self.outcome.seats += len(wanted)
        for seat in wanted:
            if seat in self.outcome.sold:
                self.outcome.fail("a seat answered sold twice")
            self.outcome.sold[seat] = booking["bookingId"]


async def _seed_database(dsn: str) -> None:
    conn = await check.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def _verify(dsn: str, show_id: str) -> dict[str, int]:
    """What PostgreSQL says: seats BOOKED, seats in more or fewer than one confirmed booking,
    confirmed bookings, SUCCESS payments."""
    conn = await check.connect(dsn)
    try:
        row = await conn.fetchrow("""
            SELECT (SELECT count(*) FROM show_seats WHERE show_id = $1 AND status = 'BOOKED')
                       AS booked,
                   (SELECT count(*) FROM show_seats ss WHERE ss.show_id = $1 AND (
                       SELECT count(*) FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id
                        WHERE bs.show_id = $1 AND bs.seat_id = ss.seat_id
                          AND b.status = 'CONFIRMED') <> 1) AS not_once,
                   (SELECT count(*) FROM bookings WHERE show_id = $1 AND status = 'CONFIRMED')
                       AS confirmed,
                   (SELECT count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id
                     WHERE b.show_id = $1 AND p.status = 'SUCCESS') AS paid
            """, uuid.UUID(show_id))
        return dict(row.items()) if row else {}
    finally:
        await conn.close()


def _jobs_pid(server: Server) -> list[int]:
    """The `admitone up` process's jobs child (outbox, sweeper, reconciler), if any."""
    assert server.proc is not None  # noqa: S101 - only called once started
    path = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    children = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [p for p in children
            if b"admitone.cli\x00jobs" in Path(f"/proc/{p}/cmdline").read_bytes()]


def _backends(db: str) -> list[int]:
    return [int(r[0]) for r in sql("postgres", "SELECT pid FROM pg_stat_activity"
                                   " WHERE datname = $1", db)]


def _cpu(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    return {name: {pid: cpu_seconds([pid]) for pid in pids} for name, pids in groups.items()}


def _cpu_ms_per_order(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]],
                      client: float, machine: float, orders: int) -> dict[str, float]:
    """CPU milliseconds per confirmed booking by part (a backend or worker that started
    during the run counts from zero; the client is this process: buyers and token signing)."""
    if not orders:
        return {}
    out = {name: sum(t - before.get(name, {}).get(pid, 0.0) for pid, t in pids.items())
           for name, pids in after.items()}
    out.update(client=client, machine=machine)
    return {name: round(seconds * 1000 / orders, 2) for name, seconds in out.items()}


def _machine_busy() -> float:
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # idle, iowait out


def _post(base: str, token: str, path: str, body: dict[str, Any]) -> str:
    import httpx  # noqa: PLC0415 - only the set-up uses it

    answer = httpx.post(f"{base}/api/v1/admin{path}", json=body, timeout=30,
                        headers={"Authorization": f"Bearer {token}"})
    if answer.status_code != 201:
        raise RuntimeError(f"POST {path} -> {answer.status_code} {answer.text[:300]}")
    return str(answer.json()["id"])


def run(workers: int, redis_db: int, tmp: Path, stack: contextlib.ExitStack,
        rows: int = ROWS, *, own_views: bool = False) -> dict[str, Any]:
    """One measurement at ``workers`` HTTP workers; the numbers and the checks."""
    db = f"admitone_checkout_bench_{os.getpid()}_{workers}"
    drop = f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'
    stack.callback(quietly, f"drop {db}", lambda: sql("postgres", drop))
    sql("postgres", f'CREATE DATABASE "{db}"')
    asyncio.run(_seed_database(f"{pg()}/{db}"))
    scratch = redis.Redis(host="127.0.0.1", port=redis_port(), db=redis_db, socket_timeout=5)
    scratch.flushdb()
    scratch.close()
    data_dir, port, operator = tmp / f"data-{workers}", free_port(), secrets.token_urlsafe(24)
    keys = KeyRing.load(data_dir / "keys")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMITONE_")}
    redis_url = f"redis://127.0.0.1:{redis_port()}/{redis_db}"
    env["ADMITONE_SANDBOX_PAYMENTS"] = "1"  # they pay in the sandbox (development mode)
    env.update(ADMITONE_DATABASE_URL=f"{pg()}/{db}", ADMITONE_DATA_DIR=str(data_dir),
               ADMITONE_REDIS_URL=redis_url, ADMITONE_OPERATOR_TOKEN=operator,
               ADMITONE_BACKGROUND_JOBS="1", ADMITONE_WORKERS=str(workers),
               ADMITONE_HOST="127.0.0.1", ADMITONE_PORT=str(port),
               # every simulated fan comes from this one host: no per-network lock cap
               ADMITONE_MAX_SEATS_PER_NETWORK="0")
    server = Server(f"admitone-checkout-{workers}", [sys.executable, "-m", "admitone.cli", "up"],
                    env, port, tmp)
    stack.callback(quietly, "stop admitone", server.stop)
    server.start("/healthz", workers)
    base = f"http://127.0.0.1:{port}"
    movie, theater = _post(base, operator, "/movies", MOVIE), _post(base, operator, "/theaters",
                                                                    THEATER)
    screen_id = _post(base, operator, f"/theaters/{theater}/screens", screen(rows))
    show_id = _post(base, operator, "/shows", show_payload(movie, screen_id))
    seats = seat_ids(rows)
    buyers = Buyers(port, show_id, TokenService(keys, "admitone", "admitone-booking"), seats,
                    own_views=own_views)

    async def drive() -> float:
        started = time.monotonic()
        deadline = started + MAX_SECONDS
        await asyncio.gather(*(buyers.buyer(deadline) for _ in range(BUYERS)))
        return time.monotonic() - started

    commits = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1"
    before = sql("postgres", commits, db)[0][0]
    groups = {"workers": server.workers(), "jobs": _jobs_pid(server), "postgres": _backends(db)}
    cpu_before, client_before = _cpu(groups), time.process_time()
    machine_before = _machine_busy()
    seconds = asyncio.run(drive())
    groups["postgres"] = sorted({*groups["postgres"], *_backends(db)})
    cpu_after = _cpu(groups)
    client, machine = time.process_time() - client_before, _machine_busy() - machine_before
    server.stop()
    time.sleep(0.6)  # the statistics collector's report interval (PostgreSQL 15: 500 ms)
    transactions = sql("postgres", commits, db)[0][0] - before
    found = asyncio.run(_verify(f"{pg()}/{db}", show_id))
    lines = asyncio.run(check.collect(f"{pg()}/{db}", redis_url, show_id))
    out = buyers.outcome
    latencies = sorted(out.latencies_ms) or [0.0]
    return {
        "workers": workers, "seconds": round(seconds, 1), "confirmed": out.confirmed,
        "seats": out.seats, "rate": out.confirmed / seconds if seconds else 0.0,
        "seats_per_second": out.seats / seconds if seconds else 0.0,
        "p50_ms": statistics.median(latencies), "p99_ms": latencies[int(len(latencies) * 0.99)],
        "conflicts": out.conflicts,
        "conflicts_per_order": round(out.conflicts / out.confirmed, 2) if out.confirmed else None,
        "own_views": own_views,
        "transactions_per_order": round(transactions / out.confirmed, 1) if out.confirmed else None,
        "cpu_ms_per_order": _cpu_ms_per_order(cpu_before, cpu_after, client, machine,
                                              out.confirmed),
        "failures": out.failures, "database": found,
        "seats_total": len(seats),
        "sold_exactly_once": found.get("booked") == len(seats) and found.get("not_once") == 0
        and found.get("confirmed") == out.confirmed == found.get("paid"),
        "verdict_broken": [line.check for line in lines if line.broken],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=12, help="flushed before and after")
    parser.add_argument("--rows", type=int, default=ROWS,
                        help=f"rows of {PER_ROW} seats (default {ROWS}: {ROWS * PER_ROW:,} seats)")
    parser.add_argument("--own-views", action="store_true",
                        help="each buyer its own map, following the 409's alternatives")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="admitone-checkout-bench-"))
    with contextlib.ExitStack() as stack:
        stack.callback(quietly, "remove the temp dir", lambda: shutil.rmtree(tmp))
        result = run(args.workers, args.redis_db, tmp, stack, args.rows, own_views=args.own_views)
    print(json.dumps(result, indent=2))
    return 0 if result["sold_exactly_once"] and not result["verdict_broken"] else 1


if __name__ == "__main__":
    sys.exit(main())
