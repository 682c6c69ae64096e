"""The metrics every part of admitone counts in-process, and the bounded ``show`` label.

Importable from anywhere below the gateway (it imports none of admitone's packages), so the
service that knows an outcome counts it: ``booking_core`` its locks and payments, ``admission``
its joins. Counting costs a dictionary lookup and an increment — no I/O on the hot paths.

Two kinds of figures reach ``/metrics`` (README, "Observability"):

- counted here, per process: requests and their latency, joins, lock attempts, payments,
  webhook signature failures, seats freed by expiry, admission rounds and who leads them, the
  process's PostgreSQL pool and its Redis pings. With several workers (``admitone up`` sets
  ``PROMETHEUS_MULTIPROC_DIR``) prometheus_client writes them to shared files and a scrape
  sums every process, the jobs process included.
- read at scrape time from Redis and PostgreSQL, the one truth every worker shares: queue length,
  active sessions, admissions, abandonments, bookings and seats by state, and the invariant
  check (``admitone/monitoring.py``).

The ``show`` label names only shows on sale — an enabled waiting room, or seats held right now —
at most ``MAX_LABELLED_SHOWS`` of them (refreshed every ``monitoring.LABEL_REFRESH_SECONDS``);
every other show counts as ``show="other"``, so the number of series stays bounded however many
shows the database holds.
"""

from __future__ import annotations

import asyncio
import bisect
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# No ``*_created`` series: multiprocess mode (several workers) has none, so neither has one
# process, and /metrics reads the same whatever ADMITONE_WORKERS is.
disable_created_metrics()  # type: ignore[no-untyped-call]

MAX_LABELLED_SHOWS = 50
OTHER_SHOW = "other"
_MAX_CHILDREN = 10_000

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "admitone_http_requests_total", "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "admitone_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
    ["method", "route"], buckets=LATENCY_BUCKETS,
)
# Requests are counted per process in plain integers and handed to prometheus_client at most
# a second later (and before any read of this process's metrics: ``flush_http``): its own
# Counter.inc and Histogram.observe take a lock and write a shared file per call (in
# multiprocess mode), about 10-15 us a request on this machine, as much as the rest of a cached
# answer's middleware. Per (method, route, status): [requests, seconds, per-bucket counts].
FLUSH_SECONDS = 1.0
_UPPER_BOUNDS = (*LATENCY_BUCKETS, float("inf"))
_http_pending: dict[tuple[str, str, int], list[Any]] = {}
_http_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_flush_due: list[asyncio.TimerHandle | None] = [None]


def note_http(method: str, route: str, status: int, seconds: float) -> None:
    """One HTTP request of ``route`` answered ``status`` after ``seconds``."""
    key = (method, route, status)
    entry = _http_pending.get(key)
    if entry is None:
        entry = _http_pending[key] = [0, 0.0, [0] * len(_UPPER_BOUNDS)]
        if _flush_due[0] is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (a synchronous caller): at once
                _count_now(key, seconds)
                return
            _flush_due[0] = loop.call_later(FLUSH_SECONDS, flush_http)
    entry[0] += 1
    entry[1] += seconds
    entry[2][bisect.bisect_left(_UPPER_BOUNDS, seconds)] += 1


def _count_now(key: tuple[str, str, int], seconds: float) -> None:
    counter, histogram = _http_child(key)
    counter.inc()
    histogram.observe(seconds)


def _http_child(key: tuple[str, str, int]) -> tuple[Any, Any]:
    children = _http_children.get(key)
    if children is None:
        children = (HTTP_REQUESTS.labels(*key), HTTP_LATENCY.labels(key[0], key[1]))
        _http_children[key] = children
    return children


def flush_http() -> None:
    """Hand the requests counted so far to prometheus_client (what /metrics reads)."""
    due, _flush_due[0] = _flush_due[0], None
    if due is not None:
        due.cancel()
    pending = list(_http_pending.items())
    _http_pending.clear()
    for key, (count, seconds, buckets) in pending:
        counter, histogram = _http_child(key)
        counter.inc(count)
        # What Histogram.observe does for one value, for all of them at once: the sum, and
        # each value's bucket (the first upper bound not below it).
        histogram._sum.inc(seconds)
        for index, times in enumerate(buckets):
            if times:
                histogram._buckets[index].inc(times)


QUEUE_JOINS = Counter(
    "admitone_queue_joins_total",
    "Joins of a waiting room answered, by the place given (waiting, prequeue, admitted)",
    ["show", "status"],
)
SEAT_LOCKS = Counter(
    "admitone_seat_lock_attempts_total",
    "Seat lock requests, by outcome (locked, unavailable, limit, unknown, show_closed, no_show)",
    ["show", "outcome"],
)
SEATS_LOCKED = Counter(
    "admitone_seats_locked_total", "Seats taken by successful locks", ["show"]
)
SEATS_EXPIRED = Counter(
    "admitone_seats_expired_total",
    "Seats freed by the sweeper because their lock ran out (lock leakage)", ["show"],
)
PAYMENTS = Counter(
    "admitone_payments_total",
    "Payment outcomes settled, by what they did (confirmed, failed, refunded, ignored)",
    ["show", "outcome"],
)
WEBHOOK_SIGNATURE_FAILURES = Counter(
    "admitone_webhook_signature_failures_total",
    "Payment webhooks refused for a missing, malformed, stale or wrong signature",
    ["provider"],
)
POOL_CONNECTIONS = Gauge(
    "admitone_postgres_pool_connections",
    "PostgreSQL connections of the processes' pools, by state (in_use, idle)",
    ["state"], multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "admitone_postgres_pool_max_connections",
    "Largest size of the processes' PostgreSQL pools, summed", multiprocess_mode="livesum",
)
REDIS_PING = Histogram(
    "admitone_redis_ping_duration_seconds",
    "Round trip of a PING to Redis, sampled by every process every few seconds",
    buckets=(0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5),
)
ADMISSION_LEADER = Gauge(
    "admitone_admission_leader",
    "1 in the process whose admission scheduler holds the lease (summed: how many lead)",
    multiprocess_mode="livesum",
)
ADMISSION_ROUND = Histogram(
    "admitone_admission_round_duration_seconds",
    "Time of one admission round of the leading scheduler over every open room",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
REDIS_PING_FAILURES = Counter(
    "admitone_redis_ping_failures_total", "Sampled PINGs to Redis that failed or timed out"
)


_children: dict[tuple[object, str, str], object] = {}


class ShowLabels:
    """The shows that may appear as a ``show`` label value in this process."""

    def __init__(self) -> None:
        self._shows: frozenset[str] = frozenset()

    @property
    def shows(self) -> frozenset[str]:
        return self._shows

    def replace(self, show_ids: list[str]) -> None:
        """Label these shows from now on (the first ``MAX_LABELLED_SHOWS``)."""
        shows = frozenset(show_ids[:MAX_LABELLED_SHOWS])
        if shows != self._shows:
            self._shows = shows
            _children.clear()  # children were chosen by the old set

    def label(self, show_id: str) -> str:
        return show_id if show_id in self._shows else OTHER_SHOW


SHOW_LABELS = ShowLabels()


def _child(metric: Counter, show_id: str, value: str) -> Counter:
    """The metric's child for (show, value), looked up once per labelled set: a hit costs one
    dictionary lookup (``labels()`` takes a lock and builds its key every time)."""
    key = (metric, show_id, value)
    child = _children.get(key)
    if child is None:
        if len(_children) > _MAX_CHILDREN:
            _children.clear()
        show = SHOW_LABELS.label(show_id)
        child = metric.labels(show, value) if value else metric.labels(show)
        _children[key] = child
    return child  # type: ignore[return-value]  # a child of a Counter is a Counter


def count_join(show_id: str, status: str) -> None:
    _child(QUEUE_JOINS, show_id, status.lower()).inc()


def count_lock(show_id: str, outcome: str, seats: int = 0) -> None:
    _child(SEAT_LOCKS, show_id, outcome).inc()
    if seats:
        _child(SEATS_LOCKED, show_id, "").inc(seats)


def count_expired_seats(show_id: str, seats: int) -> None:
    _child(SEATS_EXPIRED, show_id, "").inc(seats)


def count_payment(show_id: str, outcome: str) -> None:
    _child(PAYMENTS, show_id, outcome).inc()


def count_signature_failure(provider: str) -> None:
    WEBHOOK_SIGNATURE_FAILURES.labels(provider).inc()
