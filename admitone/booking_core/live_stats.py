"""A show's live figures for the operator console, shared by every worker through Redis.

Services record events as they happen (``count``, ``gauge``, ``observe``, ``visit``); nothing
goes to Redis on the request's path: each process buffers its events and writes them once a
second in one pipeline (``flush``). What it writes, per show:

- one hash per minute (``keys.live_minute_key``, kept ``MINUTE_TTL_SECONDS``): counters added
  with HINCRBY (joins, admissions, locks, lock conflicts, sales, revenue in minor units…), the
  last sample of each gauge (queue length, rate) with HSET, and latency histograms as
  ``lat:<name>:<bucket>`` counters, so p50 / p99 add up exactly across workers;
- one set per funnel step (``keys.funnel_key``) of the visitors who reached it, so the funnel
  counts distinct fans exactly.

Reading (``minutes``, ``funnel``) flushes this process's buffer first, so a reload in the same
process sees its own events at once; other workers' events are at most a second behind.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import structlog
from redis.exceptions import RedisError

from admitone.booking_core import keys
from admitone.errors import DependencyUnavailableError
from admitone.redis_client import RedisClient

log = structlog.get_logger(__name__)

FUNNEL_STEPS = (
    "joined", "admitted", "seat_map_viewed", "locked", "checkout", "paid", "confirmed",
)
MINUTE_TTL_SECONDS = 35 * 60  # the charts show 30 minutes
FUNNEL_TTL_SECONDS = 30 * 24 * 3600  # long enough to read the funnel well after the show
FLUSH_SECONDS = 1.0
# Upper bounds (ms) of the latency buckets; a last, open bucket holds everything slower.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
_LATENCY_PREFIX = "lat:"


def latency_bucket(seconds: float) -> int:
    """The index of the bucket a duration falls in (``len(LATENCY_BOUNDS_MS)`` = slower)."""
    return bisect.bisect_left(LATENCY_BOUNDS_MS, seconds * 1000)


def quantile_ms(buckets: dict[int, int], q: float) -> float | None:
    """The upper bound (ms) of the bucket holding the ``q`` quantile; None without samples.

    A bucketed quantile is an upper bound of the true one, exact to the bucket's width, and
    the same whichever workers the samples came from.
    """
    total = sum(buckets.values())
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index in sorted(buckets):
        seen += buckets[index]
        if seen >= rank:
            bounds = LATENCY_BOUNDS_MS
            return float(bounds[index]) if index < len(bounds) else float(bounds[-1] * 2)
    return float(LATENCY_BOUNDS_MS[-1] * 2)


@dataclass
class MinuteFigures:
    """One minute of one show: counters, gauges (last sample) and latency histograms."""

    minute: int  # unix seconds // 60
    counters: dict[str, int] = field(default_factory=dict)
    gauges: dict[str, int] = field(default_factory=dict)
    latency: dict[str, dict[int, int]] = field(default_factory=dict)

    def count(self, name: str) -> int:
        return self.counters.get(name, 0)


def _parse_minute(minute: int, raw: dict[bytes, bytes]) -> MinuteFigures:
    figures = MinuteFigures(minute)
    for raw_name, raw_value in raw.items():
        name, value = raw_name.decode(), int(raw_value)
        if name.startswith(_LATENCY_PREFIX):
            _, metric, bucket = name.split(":", 2)
            figures.latency.setdefault(metric, {})[int(bucket)] = value
        elif name.startswith("g:"):
            figures.gauges[name[2:]] = value
        else:
            figures.counters[name] = value
    return figures


class LiveStats:
    """Records a show's events in this process and writes them to Redis once a second."""

    def __init__(
        self, redis: RedisClient, prefix: str = "admitone", *,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.redis = redis
        self.prefix = prefix  # every key of this deployment starts with it
        self.flush_seconds = flush_seconds
        self._counters: defaultdict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        self._gauges: defaultdict[tuple[str, int], dict[str, int]] = defaultdict(dict)
        self._visits: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    # Recording (no I/O) --------------------------------------------------------------------

    def count(self, show_id: str, name: str, amount: int = 1) -> None:
        """Add ``amount`` to this minute's counter ``name``."""
        self._counters[(show_id, _minute())][name] += amount
        self._wake()

    def gauge(self, show_id: str, name: str, value: int) -> None:
        """Sample a level (queue length, rate): the minute keeps its last sample."""
        self._gauges[(show_id, _minute())][name] = value
        self._wake()

    def observe(self, show_id: str, name: str, seconds: float) -> None:
        """One duration of ``name`` (join, lock, checkout) into this minute's histogram."""
        bucket = latency_bucket(seconds)
        self._counters[(show_id, _minute())][f"{_LATENCY_PREFIX}{name}:{bucket}"] += 1
        self._wake()

    def visit(self, show_id: str, step: str, visitor_ids: Iterable[str]) -> None:
        """These visitors reached funnel ``step`` (each counts once per step, ever)."""
        self._visits[(show_id, step)].update(visitor_ids)
        self._wake()

    def _wake(self) -> None:
        """Start the once-a-second writer on first use (in the event loop that records)."""
        if self._task is None or self._task.done():
            with contextlib.suppress(RuntimeError):  # no running loop: flushed when read
                self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()
            if not (self._counters or self._gauges or self._visits):
                return  # idle: the next event starts the writer again

    # Writing -------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write the buffered events in one pipeline; on a Redis failure they are dropped (the
        console's figures are a view, never the truth of a seat or a payment)."""
        counters, gauges, visits = self._counters, self._gauges, self._visits
        if not (counters or gauges or visits):
            return
        self._counters, self._gauges, self._visits = (
            defaultdict(Counter), defaultdict(dict), defaultdict(set),
        )
        pipe = self.redis.pipeline(transaction=False)
        for key_parts in {*counters, *gauges}:
            key = keys.live_minute_key(self.prefix, *key_parts)
            for name, amount in counters.get(key_parts, Counter()).items():
                pipe.hincrby(key, name, amount)
            if key_parts in gauges:
                pipe.hset(key, mapping={f"g:{n}": v for n, v in gauges[key_parts].items()})
            pipe.expire(key, MINUTE_TTL_SECONDS)
        for (show_id, step), members in visits.items():
            key = keys.funnel_key(self.prefix, show_id, step)
            pipe.sadd(key, *members)
            pipe.expire(key, FUNNEL_TTL_SECONDS)
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("live_stats_flush_failed", error=repr(exc))

    async def aclose(self) -> None:
        """Stop the writer and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.flush()

    # Reading -------------------------------------------------------------------------------

    async def minutes(self, show_id: str, count: int = 30) -> list[MinuteFigures]:
        """The last ``count`` minutes of a show, oldest first, this minute last."""
        await self.flush()
        now = _minute()
        wanted = list(range(now - count + 1, now + 1))
        pipe = self.redis.pipeline(transaction=False)
        for minute in wanted:
            pipe.hgetall(keys.live_minute_key(self.prefix, show_id, minute))
        try:
            replies = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis") from exc
        return [_parse_minute(minute, raw) for minute, raw in zip(wanted, replies, strict=True)]

    async def funnel(self, show_id: str) -> dict[str, int]:
        """Distinct visitors per funnel step, in the steps' order."""
        await self.flush()
        pipe = self.redis.pipeline(transaction=False)
        for step in FUNNEL_STEPS:
            pipe.scard(keys.funnel_key(self.prefix, show_id, step))
        try:
            replies = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise DependencyUnavailableError("Redis") from exc
        return {step: int(n) for step, n in zip(FUNNEL_STEPS, replies, strict=True)}


def _minute() -> int:
    return int(time.time()) // 60
