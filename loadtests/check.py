"""The verdict of a load run on one show: did admitone keep its promises?

    python -m loadtests.check --show-id "$SHOW_ID" [--database-url …] [--redis-url …]

Reads PostgreSQL (seats, locks, bookings, payments, refunds) and Redis (the room's counters and
the admission log that ``admitone/queue/scripts/admit.lua`` keeps) and prints one table. The
invariant lines must read 0; the run's exit code is 1 when one does not, 2 when a server could
not be read. Every locust scenario runs it at its end (``loadtests/scenarios/verdict.py``), and
so do ``loadtests/swarm.py`` and ``bench/run_all.py``. What each line means: loadtests/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from admitone.admission import eta
from admitone.queue import keys
from admitone.redis_client import RedisClient, create_redis
from admitone.settings import Settings

MINUTE_MS = 60_000
RATE_TOLERANCE = 0.01  # the "within 1 %"
WINDOW_SLACK_MS = 500  # a "whole minute" is the ticks 60 s (± half a tick) after the first
# A lock counts as alive past its expiry only once the sweeper (every 2 s by default) has had
# time to free it; before that a lapsed lock is already lockable by others (DESIGN.md).
DEFAULT_SWEEP_GRACE_SECONDS = 30.0
_LOG_PAGE = 1_000

SOLD_TWICE = """
SELECT count(*) FROM (
    SELECT bs.seat_id FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id
     WHERE bs.show_id = $1 AND b.status IN ('CONFIRMED', 'REVIEW')
     GROUP BY bs.seat_id HAVING count(*) > 1) twice
"""
CONFIRMED_UNPAID = """
SELECT count(*) FROM bookings b
 WHERE b.show_id = $1 AND b.status IN ('CONFIRMED', 'REVIEW')
   AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = b.id AND p.status = 'SUCCESS')
"""
# Money taken (SUCCESS, or REFUNDED) for a booking that neither holds every one of its seats
# (CONFIRMED, or REVIEW: held for fraud review with its seats; each seat BOOKED for it) nor has
# a refund. A booking held twice for one seat counts in "seats sold twice".
CAPTURED_UNSERVED = """
SELECT count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id
 WHERE b.show_id = $1 AND p.status IN ('SUCCESS', 'REFUNDED')
   AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id)
   AND NOT (b.status IN ('CONFIRMED', 'REVIEW')
            AND EXISTS (SELECT 1 FROM booking_seats bs WHERE bs.booking_id = b.id)
            AND NOT EXISTS (
                SELECT 1 FROM booking_seats bs
                  JOIN show_seats ss ON ss.show_id = bs.show_id AND ss.seat_id = bs.seat_id
                 WHERE bs.booking_id = b.id
                   AND (ss.status <> 'BOOKED' OR ss.booking_id IS DISTINCT FROM b.id)))
"""
STALE_LOCKS = """
SELECT (SELECT count(*) FROM seat_locks
         WHERE show_id = $1 AND status = 'ACTIVE'
           AND expires_at < now() - make_interval(secs => $2)),
       (SELECT count(*) FROM show_seats
         WHERE show_id = $1 AND status = 'LOCKED'
           AND locked_until < now() - make_interval(secs => $2))
"""
SEATS = """
SELECT count(*) FILTER (WHERE status = 'AVAILABLE') AS available,
       count(*) FILTER (WHERE status = 'LOCKED') AS locked,
       count(*) FILTER (WHERE status = 'BOOKED') AS booked,
       (SELECT count(*) FROM bookings WHERE show_id = $1 AND status = 'CONFIRMED') AS confirmed
  FROM show_seats WHERE show_id = $1
"""


@dataclass(frozen=True)
class Line:
    """One row of the verdict: an invariant (``broken`` when it does not hold) or a figure."""

    check: str
    value: str
    broken: bool = False
    invariant: bool = True

    @property
    def verdict(self) -> str:
        if not self.invariant:
            return "info"
        return "BROKEN" if self.broken else "ok"


class Admitted(NamedTuple):
    """One fan a tick let in: ticket, join time, the wait predicted at join, when it last asked
    and the wait that answer predicted (unix seconds and seconds; None when unknown)."""

    visitor: str
    ticket: int
    joined: float | None
    eta: float | None
    seen: float | None = None
    last_eta: float | None = None
    # The earliest and latest admission any answer predicted, in seconds after joined.
    early: float | None = None
    late: float | None = None


@dataclass(frozen=True)
class Tick:
    """One admission-log entry (see admit.lua's header)."""

    at_ms: int
    phase: str
    rate: int
    max_active: int
    bound: str
    admitted: int
    abandoned: int
    active: int
    waiting: int
    fans: list[Admitted] = field(default_factory=list)


@dataclass(frozen=True)
class Minute:
    """A whole minute of admissions bounded by the rate alone."""

    start_ms: int
    elapsed_ms: int
    admitted: int
    rate: int

    @property
    def per_minute(self) -> float:
        return self.admitted * MINUTE_MS / self.elapsed_ms

    @property
    def deviation(self) -> float:
        return (self.per_minute - self.rate) / self.rate

    @property
    def within(self) -> bool:
        allowed = max(RATE_TOLERANCE * self.rate, 1.0)  # one fan: a tick rounds down to whole fans
        return abs(self.per_minute - self.rate) <= allowed


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value: str) -> float | None:
    return float(value) if value not in ("", "nil") else None


def parse_tick(fields: dict[Any, Any]) -> Tick:
    """An entry of the admission log as admit.lua wrote it."""
    data = {_text(k): _text(v) for k, v in fields.items()}
    fans = []
    for name, value in data.items():
        if len(name) > 1:  # visitor ids are 12 characters; the tick's own fields one
            parts = [*value.split(","), "", "", "", "", "", ""]
            fans.append(Admitted(name, int(parts[0]), _number(parts[1]), _number(parts[2]),
                                 _number(parts[3]), _number(parts[4]), _number(parts[5]),
                                 _number(parts[6])))
    fans.sort(key=lambda fan: fan.ticket)  # one tick pops in ticket order; the hash order is lost
    return Tick(
        at_ms=int(data["t"]), phase=data["p"], rate=int(data["r"]), max_active=int(data["m"]),
        bound=data["b"], admitted=int(data["a"]), abandoned=int(data["s"]),
        active=int(data["n"]), waiting=int(data["w"]), fans=fans,
    )


async def read_log(redis: RedisClient, prefix: str, show_id: str) -> list[Tick]:
    """Every entry of the show's admission log, oldest first."""
    ticks: list[Tick] = []
    start = "-"
    while True:
        page = await redis.xrange(keys.admission_log_key(prefix, show_id), start, "+",
                                  count=_LOG_PAGE)
        ticks += [parse_tick(fields) for _, fields in page]
        if len(page) < _LOG_PAGE:
            return ticks
        start = "(" + _text(page[-1][0])


def rate_minutes(ticks: Sequence[Tick]) -> list[Minute]:
    """Whole minutes in which every tick was bounded by the rate (R), at one rate.

    Within a run of such ticks the admissions after the first tick of a window, over the time
    from it to the window's last tick, are the admission rate: each tick lets in the whole fans
    its bucket holds, so the error is under one fan. A run ends at any other tick, a rate
    change, or a queue that ran empty; a scheduler that stalls with fans waiting stays inside
    its run and shows as a minute below the rate.
    """
    minutes: list[Minute] = []
    run: list[Tick] = []

    def close(run: list[Tick]) -> None:
        first = 0
        while first < len(run) - 1:
            last = first
            while (last + 1 < len(run)
                   and run[last + 1].at_ms - run[first].at_ms <= MINUTE_MS + WINDOW_SLACK_MS):
                last += 1
            elapsed = run[last].at_ms - run[first].at_ms
            if elapsed < MINUTE_MS - WINDOW_SLACK_MS:  # no whole minute left in the run
                return
            admitted = sum(tick.admitted for tick in run[first + 1:last + 1])
            minutes.append(Minute(run[first].at_ms, elapsed, admitted, run[first].rate))
            first = last

    for tick in ticks:
        bounded = tick.phase == "OPEN" and tick.bound == "R"
        if run and (not bounded or tick.rate != run[-1].rate or run[-1].waiting == 0):
            close(run)
            run = []
        if bounded:
            run.append(tick)
    close(run)
    return minutes


def out_of_order(ticks: Sequence[Tick]) -> int:
    """Fans the log shows admitted after a fan with a later ticket."""
    highest, late = 0, 0
    for tick in ticks:
        for fan in tick.fans:
            if fan.ticket < highest:
                late += 1
            highest = max(highest, fan.ticket)
    return late


def eta_errors(ticks: Sequence[Tick]) -> list[float]:
    """Actual wait minus the wait predicted at join, in seconds, of each fan the log knows."""
    return [actual - predicted for actual, predicted in eta_waits(ticks)]


def eta_waits(ticks: Sequence[Tick], *, last: bool = False) -> list[tuple[float, float]]:
    """(actual wait, predicted wait) in seconds of each fan the log knows: predicted at join,
    or (``last``) by the last answer before its admission, from that answer on."""
    waits = []
    for tick in ticks:
        admitted = tick.at_ms / 1000
        for fan in tick.fans:
            if last and fan.seen is not None and fan.last_eta is not None:
                waits.append((admitted - fan.seen, fan.last_eta))
            elif not last and fan.joined is not None and fan.eta is not None:
                waits.append((admitted - fan.joined, fan.eta))
    return waits


def worst_eta_waits(ticks: Sequence[Tick]) -> list[tuple[float, float]]:
    """(actual wait, the worst prediction) in seconds after joining, of each fan the log knows:
    of all the answers it got (join and every status call), the one farthest from the truth."""
    waits = []
    for tick in ticks:
        admitted = tick.at_ms / 1000
        for fan in tick.fans:
            if fan.joined is None or fan.early is None or fan.late is None:
                continue
            actual = admitted - fan.joined
            worst = max(fan.early, fan.late, key=lambda due: abs(actual - due))
            waits.append((actual, worst))
    return waits


def eta_line(check_name: str, waits: Sequence[tuple[float, float]]) -> Line:
    """Median and p90 of the relative error (|actual - predicted| over the actual wait, at
    least a second: admission/eta.py relative_error) and of the error in seconds."""
    if not waits:
        return Line(check_name, "no admitted fan with a prediction in the log", invariant=False)
    relative = [eta.relative_error(actual * 1000, predicted * 1000) * 100
                for actual, predicted in waits]
    absolute = [abs(actual - predicted) for actual, predicted in waits]
    signed = [actual - predicted for actual, predicted in waits]
    return Line(check_name, (
        f"median {statistics.median(relative):.1f} %, p90 {_percentile(relative, 0.9):.1f} % "
        f"of {len(waits):,} fans (|actual - predicted| / actual wait, at least 1 s); in seconds "
        f"median {statistics.median(absolute):.1f} s, p90 {_percentile(absolute, 0.9):.1f} s, "
        f"median signed {statistics.median(signed):+.1f} s; actual waits median "
        f"{statistics.median(a for a, _ in waits):.1f} s"), invariant=False)


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


async def redis_lines(
    redis: RedisClient, prefix: str, show_id: str, joined_by_client: int | None
) -> list[Line]:
    """The queue's lines: FIFO order, capacity, rate, fans lost, ETA error."""
    raw_state = await redis.hgetall(keys.state_key(prefix, show_id))
    state = {_text(k): _text(v) for k, v in raw_state.items()}
    config = {_text(k): _text(v)
              for k, v in (await redis.hgetall(keys.config_key(prefix, show_id))).items()}
    ticks = await read_log(redis, prefix, show_id)
    waiting = int(await redis.zcard(keys.waiting_key(prefix, show_id)))
    thru = int(state.get("thru", "0"))
    waiting_key = keys.waiting_key(prefix, show_id)
    skipped = int(await redis.zcount(waiting_key, 1, f"({thru}")) if thru > 1 else 0
    late = out_of_order(ticks)
    lines = [Line("fans admitted out of FIFO order", f"{late + skipped}"
                  + (f" ({late} admitted late, {skipped} still waiting behind)" if late or skipped
                     else ""), broken=late + skipped > 0)]
    if config.get("mode") == "RANDOM_PREQUEUE":
        lines[0] = Line(lines[0].check, lines[0].value + " (ticket order after the shuffle)",
                        lines[0].broken)

    peak = int(state.get("peak", "0"))
    over = sum(1 for tick in ticks if tick.admitted and tick.active > tick.max_active)
    lines.append(Line("peak active vs maxActive",
                      f"peak {peak:,} of maxActive {int(config.get('max', '0')):,}; "
                      f"{over} ticks admitted past maxActive", broken=over > 0))

    minutes = rate_minutes(ticks)
    off = [minute for minute in minutes if not minute.within]
    if minutes:
        worst = max(minutes, key=lambda minute: abs(minute.deviation))
        rates = sorted({minute.rate for minute in minutes})
        value = (f"{len(minutes) - len(off)} of {len(minutes)} whole minutes within 1 % of "
                 f"{', '.join(f'{r:,}' for r in rates)}/min; worst {worst.per_minute:,.1f}/min "
                 f"({100 * worst.deviation:+.2f} %)")
    else:
        value = "no whole minute was bounded by the rate alone (nothing to compare)"
    lines.append(Line("admissions per minute vs configured rate", value, broken=bool(off)))

    joined = int(state.get("joined", "0"))
    admitted, abandoned = int(state.get("admitted", "0")), int(state.get("abandoned", "0"))
    left = int(state.get("left", "0"))
    accounted = waiting + admitted + abandoned + left
    lost = max(joined, joined_by_client or 0) - accounted
    client = f", {joined_by_client:,} by the load generator" if joined_by_client is not None else ""
    lines.append(Line("fans lost", f"{lost:,} (joined {joined:,} by Redis's count{client}; "
                      f"waiting {waiting:,}, admitted {admitted:,}, abandoned {abandoned:,}, "
                      f"left {left:,})", broken=lost != 0))

    lines.append(eta_line("ETA error (predicted at join vs actual wait)", eta_waits(ticks)))
    lines.append(eta_line("ETA error (last answer before admission vs actual)",
                          eta_waits(ticks, last=True)))
    lines.append(eta_line("ETA error (worst of every answer a fan got vs actual wait)",
                          worst_eta_waits(ticks)))
    return lines


async def database_lines(
    conn: asyncpg.Connection, show_id: str, sweep_grace_seconds: float
) -> list[Line]:
    """The booking core's lines: seats, bookings, payments, locks."""
    show = uuid.UUID(show_id)
    twice = int(await conn.fetchval(SOLD_TWICE, show))
    unpaid = int(await conn.fetchval(CONFIRMED_UNPAID, show))
    unserved = int(await conn.fetchval(CAPTURED_UNSERVED, show))
    locks, seats = await conn.fetchrow(STALE_LOCKS, show, sweep_grace_seconds)
    summary = await conn.fetchrow(SEATS, show)
    return [
        Line("seats sold twice", f"{twice}", broken=twice > 0),
        Line("confirmed bookings without a successful payment", f"{unpaid}", broken=unpaid > 0),
        Line("captured payments with neither seats nor a refund", f"{unserved}",
             broken=unserved > 0),
        Line("locks alive past expiry", f"{locks + seats}" + (
            f" ({locks} locks, {seats} seats, {sweep_grace_seconds:g} s after expiry)"
            if locks or seats else ""), broken=bool(locks or seats)),
        Line("seats and bookings", f"{summary['booked']:,} booked, {summary['locked']:,} locked, "
             f"{summary['available']:,} available; {summary['confirmed']:,} confirmed bookings",
             invariant=False),
    ]


async def connect(database_url: str, attempts: int = 10) -> asyncpg.Connection:
    """A connection, waiting out a server that is full for a while (shared servers are)."""
    for attempt in range(attempts):
        try:
            return await asyncpg.connect(database_url)
        except (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError):
            if attempt + 1 == attempts:
                raise
            await asyncio.sleep(2.0)
    raise AssertionError("unreachable")


async def collect(
    database_url: str, redis_url: str, show_id: str, *,
    sweep_grace_seconds: float = DEFAULT_SWEEP_GRACE_SECONDS, joined_by_client: int | None = None,
    redis_prefix: str | None = None,
) -> list[Line]:
    """Every line of the verdict, database lines first. ``redis_prefix`` is the deployment's
    (``ADMITONE_REDIS_PREFIX``); by default derived from the database's name, as admitone does."""
    show_id = str(uuid.UUID(show_id))
    prefix = Settings(database_url=database_url, redis_prefix=redis_prefix).redis_key_prefix
    conn = await connect(database_url)
    redis = create_redis(redis_url)
    try:
        return [*await database_lines(conn, show_id, sweep_grace_seconds),
                *await redis_lines(redis, prefix, show_id, joined_by_client)]
    finally:
        await conn.close()
        await redis.aclose()


def render(show_id: str, lines: Sequence[Line]) -> str:
    width = max(len(line.check) for line in lines)
    out = [f"verdict for show {show_id}", f"{'check':<{width}}  {'verdict':<7}  value"]
    out += [f"{line.check:<{width}}  {line.verdict:<7}  {line.value}" for line in lines]
    broken = [line.check for line in lines if line.broken]
    out.append(f"VERDICT: {len(broken)} invariants broken" + (f": {', '.join(broken)}"
                                                             if broken else " (all zeros)"))
    return "\n".join(out)


def _safe(url: str) -> str:
    """The URL without its password, for the report."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loadtests.check",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--show-id", required=True)
    parser.add_argument("--database-url", default=os.environ.get("ADMITONE_DATABASE_URL"),
                        help="admitone's PostgreSQL (default $ADMITONE_DATABASE_URL)")
    parser.add_argument("--redis-url", default=os.environ.get("ADMITONE_REDIS_URL"),
                        help="admitone's Redis (default $ADMITONE_REDIS_URL)")
    parser.add_argument("--redis-prefix", default=os.environ.get("ADMITONE_REDIS_PREFIX"),
                        help="admitone's Redis key prefix (default $ADMITONE_REDIS_PREFIX, "
                        "else the database's name, as admitone derives it)")
    parser.add_argument("--joined", type=int, default=None,
                        help="fans the load generator saw join (checked against Redis's count)")
    parser.add_argument("--sweep-grace-seconds", type=float, default=DEFAULT_SWEEP_GRACE_SECONDS,
                        help="how long after expiry a lock still held counts as alive")
    parser.add_argument("--json", type=Path, default=None, help="also write the lines here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.database_url or not args.redis_url:
        sys.stderr.write("check: give --database-url and --redis-url (or ADMITONE_DATABASE_URL "
                         "and ADMITONE_REDIS_URL)\n")
        return 2
    try:
        lines = asyncio.run(collect(args.database_url, args.redis_url, args.show_id,
                                    sweep_grace_seconds=args.sweep_grace_seconds,
                                    joined_by_client=args.joined,
                                    redis_prefix=args.redis_prefix))
    except (OSError, asyncpg.PostgresError, ValueError) as exc:
        sys.stderr.write(f"check: could not read {_safe(args.database_url)} / "
                         f"{_safe(args.redis_url)}: {exc!r}\n")
        return 2
    sys.stdout.write(render(args.show_id, lines) + "\n")
    if args.json is not None:
        args.json.write_text(json.dumps({"showId": args.show_id, "lines": [
            {**asdict(line), "verdict": line.verdict} for line in lines]}, indent=2))
    return 1 if any(line.broken for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
