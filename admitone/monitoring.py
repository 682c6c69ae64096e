"""What ``/metrics`` shows beyond the in-process counters of ``admitone/observability.py``.

Figures every worker shares are read where they live, at scrape time, with a short cache, so
the hot paths pay nothing for them and every worker and pod reports the same numbers:

- from Redis, per room of a labelled show: waiting, active, admitted and abandoned totals,
  phase, release rate, ``maxActive``, observed admissions per minute (one pipelined round trip);
- from PostgreSQL, per labelled show: bookings and seats by state; and every
  ``INVARIANT_SECONDS`` the invariant check (``booking_core/sql/monitoring_invariants.sql``).

Each process also samples itself every ``SAMPLE_SECONDS`` (its PostgreSQL pool, a Redis PING)
and refreshes the shows that may be labels every ``LABEL_REFRESH_SECONDS``; ``running`` is that
loop, entered by the app's lifespan and by ``admitone jobs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import structlog
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from admitone import observability
from admitone.admission import eta
from admitone.booking_core.monitoring import INVARIANTS, MonitoringRepository
from admitone.queue.models import RoomFigures
from admitone.queue.store import QueueStore
from admitone.redis_client import RedisClient

log = structlog.get_logger(__name__)
T = TypeVar("T")

SHARED_CACHE_SECONDS = 5.0
INVARIANT_SECONDS = 30.0
LABEL_REFRESH_SECONDS = 10.0
SAMPLE_SECONDS = 5.0
SOURCE_TIMEOUT_SECONDS = 2.0
PHASES = ("OPEN", "PAUSED", "PREQUEUE", "NOTOPEN", "CLOSED")
BOOKING_STATES = ("PENDING", "CONFIRMED", "REVIEW", "FAILED", "CANCELLED")
SEAT_STATES = ("AVAILABLE", "LOCKED", "BOOKED")


class _Families:
    """A collector that yields metric families made beforehand."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def process_metrics_text() -> bytes:
    """The in-process metrics: every process's, summed, when ``PROMETHEUS_MULTIPROC_DIR`` is
    set (``admitone up`` with several workers), else this process's."""
    observability.flush_http()  # this process's requests counted so far (other workers': <1 s)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(registry))
    return bytes(generate_latest(REGISTRY))


class MonitoringService:
    """Builds ``/metrics``: in-process metrics plus the shared figures read at scrape time."""

    def __init__(
        self, pool: asyncpg.Pool, redis: RedisClient, *, queue: QueueStore | None,
        invariant_grace_seconds: float,
    ) -> None:
        self.pool = pool
        self.redis = redis
        self.repository = MonitoringRepository(pool)
        self.queue = queue
        self.invariant_grace_seconds = invariant_grace_seconds
        self.rooms: list[str] = []  # labelled shows with an enabled waiting room
        self._labels_at = float("-inf")
        self._shared: tuple[float, list[Metric]] = (float("-inf"), [])
        self._invariants: tuple[float, list[Metric]] = (float("-inf"), [])
        self._lock = asyncio.Lock()

    # Per process ---------------------------------------------------------------------------

    async def refresh_labels(self) -> None:
        """Read the shows on sale: they, and only they, may be ``show`` label values."""
        shows = await self.repository.shows_on_sale(observability.MAX_LABELLED_SHOWS)
        observability.SHOW_LABELS.replace([show for show, _ in shows])
        self.rooms = [show for show, has_room in shows if has_room]
        self._labels_at = time.monotonic()

    async def sample_process(self) -> None:
        """This process's PostgreSQL pool, and one timed PING to Redis."""
        size, idle = self.pool.get_size(), self.pool.get_idle_size()
        observability.POOL_CONNECTIONS.labels("in_use").set(size - idle)
        observability.POOL_CONNECTIONS.labels("idle").set(idle)
        observability.POOL_MAX.set(self.pool.get_max_size())
        started = time.perf_counter()
        try:
            async with asyncio.timeout(SOURCE_TIMEOUT_SECONDS):
                await self.redis.ping()
        except Exception:  # noqa: BLE001 - a failed sample is counted, never raised
            observability.REDIS_PING_FAILURES.inc()
            return
        observability.REDIS_PING.observe(time.perf_counter() - started)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Sample this process and refresh the labelled shows until the context exits."""

        async def loop() -> None:
            while True:
                try:
                    if time.monotonic() - self._labels_at >= LABEL_REFRESH_SECONDS:
                        await self.refresh_labels()
                    await self.sample_process()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - sampling survives a down dependency
                    log.warning("monitoring_sample_failed", error=repr(exc))
                await asyncio.sleep(SAMPLE_SECONDS)

        task = asyncio.create_task(loop(), name="monitoring")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def invalidate(self) -> None:
        """Forget every cached figure and the labelled shows: the next scrape reads afresh."""
        self._labels_at = float("-inf")
        self._shared = (float("-inf"), [])
        self._invariants = (float("-inf"), [])

    # At scrape time --------------------------------------------------------------------------

    async def scrape(self) -> bytes:
        """The whole Prometheus text of ``/metrics``."""
        if time.monotonic() - self._labels_at >= LABEL_REFRESH_SECONDS:
            await self._quietly("postgres", self.refresh_labels)
        await self.sample_process()
        families = await self.shared_families()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Families(families))
        return process_metrics_text() + bytes(generate_latest(registry))

    async def shared_families(self) -> list[Metric]:
        """The shared figures, read at most once every ``SHARED_CACHE_SECONDS`` per process."""
        async with self._lock:  # one read for a burst of scrapes
            now = time.monotonic()
            if now - self._shared[0] < SHARED_CACHE_SECONDS:
                return self._shared[1]
            up: dict[str, bool] = {}
            rooms = await self._quietly("redis", self._room_figures, up)
            shows = sorted(observability.SHOW_LABELS.shows)
            bookings = await self._quietly(
                "postgres", lambda: self.repository.bookings_by_state(shows), up
            )
            seats = await self._quietly(
                "postgres", lambda: self.repository.seats_by_state(shows), up
            )
            families = [
                *_room_families(rooms or {}),
                _by_state("admitone_bookings", "Bookings of each labelled show, by state",
                          bookings or [], BOOKING_STATES, shows),
                _by_state("admitone_seats", "Seats of each labelled show, by state",
                          seats or [], SEAT_STATES, shows),
                *await self._invariant_families(now, up),
                _gauge("admitone_monitoring_labelled_shows",
                       "Shows on sale, each a value of the show label", [([], len(shows))]),
                _gauge("admitone_monitoring_source_up",
                       "Whether the last read of shared figures from each source succeeded",
                       [([source], int(ok)) for source, ok in sorted(up.items())], ["source"]),
            ]
            self._shared = (now, families)
            return families

    async def _room_figures(self) -> dict[str, RoomFigures]:
        if self.queue is None:
            return {}
        return await self.queue.room_figures(self.rooms)

    async def _invariant_families(self, now: float, up: dict[str, bool]) -> list[Metric]:
        if now - self._invariants[0] < INVARIANT_SECONDS:
            return self._invariants[1]
        found = await self._quietly(
            "postgres", lambda: self.repository.invariant_violations(self.invariant_grace_seconds),
            up,
        )
        if found is None:
            return self._invariants[1]  # the last answer stands until PostgreSQL answers again
        families: list[Metric] = [
            _gauge("admitone_invariant_violations",
                   "Rows breaking each invariant at the last periodic check (0 when all is well)",
                   [([name], found[name]) for name in INVARIANTS], ["invariant"]),
            _gauge("admitone_invariant_check_timestamp_seconds",
                   "Unix time of the last invariant check that answered", [([], time.time())]),
        ]
        self._invariants = (now, families)
        return families

    async def _quietly(
        self, source: str, read: Callable[[], Awaitable[T]], up: dict[str, bool] | None = None
    ) -> T | None:
        """The read's answer, or None when its source fails or is slow (noted in ``up``)."""
        try:
            async with asyncio.timeout(SOURCE_TIMEOUT_SECONDS):
                answer = await read()
        except Exception as exc:  # noqa: BLE001 - /metrics answers while a dependency is down
            log.warning("monitoring_read_failed", source=source, error=repr(exc))
            if up is not None:
                up[source] = False
            return None
        if up is not None:
            up.setdefault(source, True)
        return answer


def _gauge(
    name: str, documentation: str, samples: list[tuple[list[str], float]],
    labels: list[str] | None = None,
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels or [])
    for values, value in samples:
        family.add_metric(values, value)
    return family


def _by_state(
    name: str, documentation: str, rows: list[tuple[str, str, int]], states: tuple[str, ...],
    shows: list[str],
) -> GaugeMetricFamily:
    """One sample per (show, state), zeros included, so a state that empties reads 0."""
    counts = {(show, state): count for show, state, count in rows}
    family = GaugeMetricFamily(name, documentation, labels=["show", "state"])
    for show in shows:
        for state in states:
            family.add_metric([show, state], counts.get((show, state), 0))
    return family


def _room_families(rooms: dict[str, RoomFigures]) -> list[Metric]:
    def per_room(name: str, documentation: str, value: Callable[[RoomFigures], float]) -> Metric:
        return _gauge(name, documentation,
                      [([show], value(room)) for show, room in sorted(rooms.items())], ["show"])

    admitted = CounterMetricFamily(
        "admitone_queue_admitted", "Fans admitted from the room's queue", labels=["show"]
    )
    abandoned = CounterMetricFamily(
        "admitone_queue_abandoned",
        "Fans dropped from the queue at admission because they had stopped polling",
        labels=["show"],
    )
    phase = GaugeMetricFamily(
        "admitone_queue_phase", "The room's phase: 1 for the current one", labels=["show", "phase"]
    )
    for show, room in sorted(rooms.items()):
        admitted.add_metric([show], room.progress.admitted_total)
        abandoned.add_metric([show], room.progress.abandoned_total)
        for name in PHASES:
            phase.add_metric([show, name], int(room.progress.phase == name))
    return [
        per_room("admitone_queue_waiting", "Fans waiting in the room's queue",
                 lambda room: room.progress.waiting),
        per_room("admitone_queue_active", "Admitted fans whose session is running",
                 lambda room: room.progress.active),
        admitted, abandoned, phase,
        per_room("admitone_queue_release_rate_per_minute", "The room's set release rate",
                 lambda room: room.release_rate_per_minute),
        per_room("admitone_queue_max_active", "The room's cap on active sessions",
                 lambda room: room.max_active),
        per_room("admitone_queue_observed_admissions_per_minute",
                 "Admissions over the last minute, as the queue page shows them",
                 lambda room: room.progress.observed_per_minute),
        *_eta_families(rooms),
    ]


def _eta_families(rooms: dict[str, RoomFigures]) -> list[Metric]:
    """How far the waits predicted at join were off (admission/eta.py): median and p90 since
    the room began and over the last ten minutes, and the histogram since the room began."""
    quantiles = GaugeMetricFamily(
        "admitone_queue_eta_error_ratio",
        "Relative error of the wait predicted at join (|actual - predicted| / actual wait, at "
        "least 1 s), as the upper edge of its histogram bucket; window all or 10m",
        labels=["show", "window", "quantile"])
    fans = GaugeMetricFamily(
        "admitone_queue_eta_predictions", "Admitted fans whose prediction at join was measured",
        labels=["show", "window"])
    histogram = HistogramMetricFamily(
        "admitone_queue_eta_error", "Relative error of the wait predicted at join, since the "
        "room began (a ratio: 0.2 is 20 %)", labels=["show"])
    for show, room in sorted(rooms.items()):
        found = eta.accuracy(room.eta_errors, room.progress.now_ms)
        for window, summary in (("all", found.at_join), ("10m", found.last_10_minutes)):
            fans.add_metric([show, window], summary.fans)
            for quantile, value in (("0.5", summary.median_percent),
                                    ("0.9", summary.p90_percent)):
                if value is not None:
                    quantiles.add_metric([show, window, quantile], value / 100)
        seen, buckets = 0, []
        for edge in eta.ERROR_BUCKETS:
            seen += found.counts.get(str(edge), 0)
            buckets.append((repr(edge / 100), seen))
        seen += found.counts.get("inf", 0)
        buckets.append(("+Inf", seen))
        histogram.add_metric([show], buckets, sum_value=None)
    return [quantiles, fans, histogram]


__all__: list[Any] = ["MonitoringService", "process_metrics_text"]
