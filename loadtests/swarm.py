"""The big surge: 100,000 fans join one show within 60 s, then wait to be admitted.

    python -m loadtests.swarm --host http://127.0.0.1:8000 --fans 100000 --join-seconds 60 \\
        --rate 30000 --database-url "$ADMITONE_DATABASE_URL" --redis-url "$ADMITONE_REDIS_URL"

Not locust: a locust user is a greenlet with its own state and HTTP session, and one locust
process on a 2-core machine runs a few thousand of them at most (its docs advise about 1,000
users per core for FastHttpUser); 100,000 would need dozens of worker processes, far more CPU
than the server under test gets. Here a fan is a few fields in a dict (ticket, queue token,
join time), and the requests go over a pool of keep-alive HTTP/1.1 connections written on
asyncio streams (no client library: the fans' side must cost less than the server's).

The room it creates opens at once and starts the sale (``startsAt``) when the last fan is
due to have arrived (``--sale-starts-after``, default ``--join-seconds``): the fans queue in
join order meanwhile (FIFO numbers them as they come), and from then on are admitted at the
configured rate from a full queue, so that whole minutes bounded by the rate alone exist to
be checked even when the machine joins fans more slowly than the rate admits them.

What each fan does, as the queue page would with a CDN in front: joins once, learns about the
queue's advance from the shared ``progress`` (polled once a second for the whole swarm, as a
CDN would fetch it once per second for every fan), and calls ``status`` once its ticket is
admitted, to take its access token. The room's ``abandonGraceSeconds`` is set past the run's
end, because these fans do not each call ``status`` every 30 s to keep their places (that
would be 3,300 requests a second on top). At the end, ``loadtests/check.py``'s verdict.
Bounded: at most ``--max-seconds`` in all, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # setup_show's imports, as locust's
from scenarios.bounds import require_loopback
from setup_show import SetupError, create_show

from loadtests import check

USER_AGENT = "admitone-swarm"  # queue tokens are bound to it: status must send the same
REQUEST_TIMEOUT_SECONDS = 30.0


class HttpError(Exception):
    """The connection broke or the answer could not be read."""


class Connection:
    """One keep-alive HTTP/1.1 connection: a request, then its whole answer, in turn."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                return await self._request(method, path, headers or {}, body)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            self.close()
            raise HttpError(repr(exc)) from exc

    async def _request(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None  # noqa: S101 - opened together with the writer
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"User-Agent: {USER_AGENT}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        answer: dict[str, str] = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            answer[name.strip().lower()] = value.strip()
        if answer.get("transfer-encoding", "").lower() == "chunked":
            content = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                content += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
            await self.reader.readexactly(2)
        else:
            content = await self.reader.readexactly(int(answer.get("content-length", "0")))
        if answer.get("connection", "").lower() == "close":
            self.close()
        return status, answer, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Fan:
    token: str
    ticket: int
    joined_at: float
    admitted_at: float | None = None


@dataclass
class Tally:
    """What the swarm saw."""

    joins: int = 0
    join_errors: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    join_ms: list[float] = field(default_factory=list)
    status_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    status_errors: dict[str, int] = field(default_factory=dict)
    first_join: float = 0.0
    last_join: float = 0.0
    last_admission: float = 0.0

    def error(self, table: dict[str, int], what: str) -> None:
        table[what] = table.get(what, 0) + 1


class Swarm:
    """The fans, the connections, and the shared view of the queue."""

    def __init__(self, args: argparse.Namespace, show_id: str) -> None:
        url = urlsplit(require_loopback(args.host))
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.args, self.show_id = args, show_id
        self.queue_path = f"/api/v1/queue/{show_id}"
        self.fans: dict[int, Fan] = {}
        self.tally = Tally()
        # (priority, order, kind, fan): an admitted fan's token comes before the next join, so
        # the token fetches keep up with admission however long the joins queue up.
        self.jobs: asyncio.PriorityQueue[tuple[int, int, str, Fan | None]] = (
            asyncio.PriorityQueue())
        self.order = 0
        self.admitted_through = 0
        self.waiting_reported = -1
        self.joining_done = False
        self.fetched_through = 0

    def put(self, priority: int, kind: str, fan: Fan | None) -> None:
        self.order += 1
        self.jobs.put_nowait((priority, self.order, kind, fan))

    async def work(self) -> None:
        """One connection's loop: take the next job (a join, or a status of an admitted fan)."""
        conn = Connection(self.host, self.port)
        try:
            while True:
                _, _, kind, fan = await self.jobs.get()
                try:
                    if kind == "join":
                        await self.join(conn)
                    elif fan is not None:
                        await self.fetch_token(conn, fan)
                finally:
                    self.jobs.task_done()
        finally:
            conn.close()

    async def join(self, conn: Connection) -> None:
        for _ in range(5):
            started = time.monotonic()
            try:
                status, headers, body = await conn.request("POST", f"{self.queue_path}/join")
            except HttpError as exc:
                self.tally.error(self.tally.join_errors, exc.args[0][:60])
                return
            self.tally.join_ms.append((time.monotonic() - started) * 1000)
            if status == 429:
                self.tally.throttled += 1
                await asyncio.sleep(min(10.0, float(headers.get("retry-after", "1") or 1)))
                continue
            answer = json.loads(body) if body else {}
            if status != 200 or not isinstance(answer.get("ticketNumber"), int):
                self.tally.error(self.tally.join_errors, f"{status} {answer.get('error', '')}")
                return
            now = time.monotonic()
            fan = Fan(answer["token"], answer["ticketNumber"], now)
            self.fans[fan.ticket] = fan
            self.tally.joins += 1
            self.tally.first_join = self.tally.first_join or now
            self.tally.last_join = now
            return
        self.tally.error(self.tally.join_errors, "429 five times")

    async def fetch_token(self, conn: Connection, fan: Fan) -> None:
        started = time.monotonic()
        try:
            status, _, body = await conn.request("GET", f"{self.queue_path}/status",
                                                 {"X-Queue-Token": fan.token})
        except HttpError as exc:
            self.tally.error(self.tally.status_errors, exc.args[0][:60])
            return
        self.tally.status_ms.append((time.monotonic() - started) * 1000)
        answer = json.loads(body) if body else {}
        if status == 200 and answer.get("status") == "ADMITTED" and answer.get("accessToken"):
            fan.admitted_at = time.monotonic()
            self.tally.tokens += 1
        elif status == 200 and answer.get("status") == "WAITING":
            self.tally.error(self.tally.status_errors, "WAITING behind admittedThrough")
        else:
            self.tally.error(self.tally.status_errors, f"{status} {answer.get('error', '')}")

    async def arrive(self) -> None:
        """Put a join on the queue at an even pace: ``--fans`` over ``--join-seconds``."""
        started = time.monotonic()
        gap = self.args.join_seconds / self.args.fans
        for number in range(self.args.fans):
            delay = started + number * gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.put(1, "join", None)
        self.joining_done = True

    async def watch(self, conn: Connection) -> None:
        """The CDN's view: ``progress`` once a second; admitted fans then ask for a token."""
        while True:
            await asyncio.sleep(1.0)
            try:
                status, _, body = await conn.request("GET", f"{self.queue_path}/progress")
            except HttpError:
                continue
            if status != 200:
                continue
            progress = json.loads(body)
            self.admitted_through = int(progress.get("admittedThrough") or 0)
            self.waiting_reported = int(progress.get("totalInQueue") or 0)
            if self.args.fetch_tokens:
                for ticket in range(self.fetched_through + 1, self.admitted_through + 1):
                    fan = self.fans.get(ticket)
                    if fan is not None and fan.admitted_at is None:
                        self.put(0, "status", fan)
                self.fetched_through = max(self.fetched_through, self.admitted_through)
            drained = self.joining_done and self.jobs.empty() and self.waiting_reported == 0
            if drained and not self.tally.last_admission:
                self.tally.last_admission = time.monotonic()

    def settled(self) -> bool:
        """Every fan joined and, unless only the join is measured, admitted."""
        if not self.joining_done or not self.jobs.empty():
            return False
        if self.args.join_only:
            return True
        return self.waiting_reported == 0 and self.tally.last_admission > 0


def _percentiles(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def resume(swarm: Swarm, operator_token: str) -> bool:
    """The operator opens the sale: ``PATCH …/waiting-room {"paused": false}``."""
    conn = Connection(swarm.host, swarm.port)
    try:
        status, _, body = await conn.request(
            "PATCH", f"/api/v1/admin/shows/{swarm.show_id}/waiting-room",
            {"Authorization": f"Bearer {operator_token}", "Content-Type": "application/json"},
            b'{"paused": false}')
    except HttpError as exc:
        sys.stderr.write(f"swarm: could not resume the room: {exc}\n")
        return False
    finally:
        conn.close()
    if status != 200:
        sys.stderr.write(f"swarm: resuming the room answered {status} {body[:200]!r}\n")
    return status == 200


async def run(args: argparse.Namespace, show_id: str) -> dict[str, Any]:
    swarm = Swarm(args, show_id)
    started = time.monotonic()
    workers = [asyncio.create_task(swarm.work()) for _ in range(args.connections)]
    watcher_conn = Connection(swarm.host, swarm.port)
    watcher = asyncio.create_task(swarm.watch(watcher_conn))
    arrivals = asyncio.create_task(swarm.arrive())
    deadline = started + args.max_seconds
    resumed_after = None
    if args.hold_until_joined:
        while time.monotonic() < deadline and not (swarm.joining_done and swarm.jobs.empty()):  # noqa: ASYNC110 - as below
            await asyncio.sleep(0.5)
        await swarm.jobs.join()
        resumed_after = await resume(swarm, args.operator_token) and time.monotonic() - started
    while time.monotonic() < deadline and not swarm.settled():  # noqa: ASYNC110 - a deadline and a state, polled
        await asyncio.sleep(0.5)
    timed_out = not swarm.settled()
    if not timed_out:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(1.0, deadline - time.monotonic())):
                await swarm.jobs.join()  # the last token fetches
    for task in (arrivals, watcher, *workers):
        task.cancel()
    await asyncio.gather(arrivals, watcher, *workers, return_exceptions=True)
    watcher_conn.close()
    tally = swarm.tally
    join_p50, join_p99 = _percentiles(tally.join_ms)
    status_p50, status_p99 = _percentiles(tally.status_ms)
    join_window = tally.last_join - tally.first_join if tally.joins else 0.0
    waits = [fan.admitted_at - fan.joined_at for fan in swarm.fans.values()
             if fan.admitted_at is not None]
    return {
        "fans": args.fans, "joined": tally.joins, "joinErrors": tally.join_errors,
        "throttled": tally.throttled, "joinWindowSeconds": round(join_window, 1),
        "joinsPerSecond": round(tally.joins / join_window, 1) if join_window else 0.0,
        "joinP50Ms": round(join_p50, 1), "joinP99Ms": round(join_p99, 1),
        "tokensFetched": tally.tokens, "statusErrors": tally.status_errors,
        "statusP50Ms": round(status_p50, 1), "statusP99Ms": round(status_p99, 1),
        "allAdmittedAfterSeconds": round(tally.last_admission - started, 1)
        if tally.last_admission else None,
        "medianWaitSeconds": round(statistics.median(waits), 1) if waits else None,
        "waitingAtEnd": swarm.waiting_reported, "timedOut": timed_out,
        "saleResumedAfterSeconds": round(resumed_after, 1) if resumed_after else None,
        "seconds": round(time.monotonic() - started, 1),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loadtests.swarm",
                                     description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--host", default=os.environ.get("ADMITONE_BASE_URL", "http://127.0.0.1:8000"))
    add("--operator-token", default=os.environ.get("ADMITONE_OPERATOR_TOKEN"))
    add("--show-id", default="", help="an existing show with a room (else one is created)")
    add("--fans", type=int, default=100_000)
    add("--join-seconds", type=float, default=60.0, help="the fans arrive evenly over this")
    add("--rate", type=int, default=30_000, help="releaseRatePerMinute of the created room")
    add("--max-active", type=int, default=200_000, help="maxActive of the created room")
    add("--session-seconds", type=int, default=1_800)
    add("--sale-starts-after", type=float, default=None,
        help="startsAt of the created room, seconds from now (default: --join-seconds): fans "
             "queue in order until then and are admitted at the rate from a full queue; 0 "
             "admits while they arrive")
    add("--hold-until-joined", action="store_true",
        help="create the room paused and resume it (PATCH paused=false) once every fan has "
             "joined: whole minutes at the rate however slowly this machine joins them (their "
             "ETA error then includes the hold)")
    add("--grace-seconds", type=int, default=1_800,
        help="abandonGraceSeconds of the created room (past the run: see the module's help)")
    add("--connections", type=int, default=64, help="keep-alive connections (default 64)")
    add("--max-seconds", type=float, default=600.0, help="the whole run stops after this")
    add("--join-only", action="store_true", help="stop once every fan has joined")
    add("--no-fetch-tokens", dest="fetch_tokens", action="store_false",
        help="admitted fans do not call status for their access token")
    add("--database-url", default=os.environ.get("ADMITONE_DATABASE_URL"))
    add("--redis-url", default=os.environ.get("ADMITONE_REDIS_URL"))
    add("--json", type=Path, default=None, help="write the numbers and the verdict here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        require_loopback(args.host)
    except ValueError as exc:
        sys.stderr.write(f"swarm: {exc}\n")
        return 2
    show_id = args.show_id
    if not show_id:
        if not args.operator_token:
            sys.stderr.write("swarm: give --show-id, or --operator-token to create a show\n")
            return 2
        try:
            after = args.join_seconds if args.sale_starts_after is None else args.sale_starts_after
            if args.hold_until_joined:
                after = 0
            starts = datetime.now(UTC) + timedelta(seconds=after) if after > 0 else None
            show_id = create_show(args.host, args.operator_token, rows=10, seats_per_row=20,
                                  release_rate_per_minute=args.rate, max_active=args.max_active,
                                  session_seconds=args.session_seconds,
                                  abandon_grace_seconds=args.grace_seconds, starts_at=starts,
                                  paused=args.hold_until_joined)
        except (SetupError, ValueError) as exc:
            sys.stderr.write(f"swarm: {exc}\n")
            return 2
    sys.stderr.write(f"swarm: {args.fans:,} fans over {args.join_seconds:g} s into show "
                     f"{show_id}, {args.connections} connections, at most {args.max_seconds:g} s\n")
    try:
        import uvloop  # noqa: PLC0415 - optional: uvicorn[standard] brings it

        uvloop.install()
    except ImportError:
        pass
    numbers = asyncio.run(run(args, show_id))
    sys.stdout.write(json.dumps(numbers, indent=2) + "\n")
    code = 0 if numbers["joined"] == args.fans and not numbers["timedOut"] else 1
    lines: list[check.Line] = []
    if args.database_url and args.redis_url:
        lines = asyncio.run(check.collect(args.database_url, args.redis_url, show_id,
                                          joined_by_client=numbers["joined"]))
        sys.stdout.write(check.render(show_id, lines) + "\n")
        if any(line.broken for line in lines):
            code = 1
    else:
        sys.stderr.write("swarm: no --database-url/--redis-url: no verdict\n")
        code = code or 2
    if args.json is not None:
        args.json.write_text(json.dumps({"showId": show_id, "numbers": numbers, "verdict": [
            {"check": line.check, "value": line.value, "verdict": line.verdict}
            for line in lines]}, indent=2))
    return code


if __name__ == "__main__":
    sys.exit(main())
