"""The estimated wait of a waiting fan, and how far such estimates were off: numbers only.

``queue/scripts/lib.lua`` (``predicted_wait``) computes the same estimate inside Redis, in the
script that answers the fan, so that the prediction is recorded in the fan's record without a
round trip; this module is the reference the tests hold it to. The model follows how
``admit.lua`` lets fans in rather than extrapolating a rate:

- fans are let in only at ticks (every ``tick_ms``, the scheduler's interval): the next tick is
  ``tick_ms`` after the last one (at once if that is past; in a pre-queue, the first tick at or
  after ``startsAt``), and each tick admits the whole tokens its bucket holds, the fraction
  carrying over;
- the fans ahead who have left are skipped without taking a token, so the place counts only
  the share of them expected to still be there (the abandonment share the ticks observed);
- with ``maxActive`` reached, a place frees only when a session ends: the fan waits at least
  until as many sessions ended as it needs slots (the active sessions' known ends, then whole
  sessions of ``sessionSeconds``). Fans who finish early (a booking confirmed frees its slot)
  make that an upper bound; the rate observed over the last minute is not used, because it
  lags every change (a burst at opening, a pause, a new rate) by a minute.

A room that is paused, sold out or not open predicts nothing (``waiting_room.py`` says why).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from admitone.admission.rate import bucket_capacity

MS_PER_MINUTE = 60_000
MAX_WAIT_SECONDS = 7 * 86_400  # estimates past a week say nothing more


@dataclass(frozen=True)
class Queue:
    """What the room knows when a fan asks (the state hash of ``queue/keys.py``)."""

    position: int  # 1 = next
    now_ms: int
    rate_per_minute: int
    tick_ms: int
    bucket: float  # tokens left after the last tick
    last_tick_ms: int | None  # when the last tick ran; None before any
    open_from_ms: int = 0  # startsAt of a pre-queue still before it (0: open now)
    abandon_share: float = 0.0  # of the fans the ticks looked at lately, the share who had left
    active: int = 0
    max_active: int = 1_000_000_000
    session_ms: int = 0
    # the end (unix ms) of the active session that must end for this fan to have a slot, when
    # the fan needs more slots than are free and no more than there are active sessions
    slot_end_ms: int | None = None
    last_end_ms: int | None = None  # the latest end among the active sessions


def fans_ahead_who_stay(position: int, abandon_share: float) -> float:
    """The fan's place counting only the fans ahead expected to still be there."""
    share = min(1.0, max(0.0, abandon_share))
    return 1 + (position - 1) * (1 - share)


def predicted_wait_ms(q: Queue) -> float | None:
    """Milliseconds until the fan at ``q.position`` is let in; ``None`` when no tokens come in
    (a rate of 0)."""
    if q.position <= 0:
        return 0.0
    if q.rate_per_minute <= 0 or q.tick_ms <= 0:
        return None
    tick = q.tick_ms
    per_tick = q.rate_per_minute * tick / MS_PER_MINUTE
    capacity = bucket_capacity(q.rate_per_minute, tick)
    # Before the room's first tick: that tick (taken as half a tick away; the scheduler picks a
    # new room up within a couple of seconds) only starts the bucket, and the one after it lets
    # the first fans in.
    last = q.last_tick_ms if q.last_tick_ms is not None else q.now_ms + tick // 2
    if q.open_from_ms > q.now_ms:  # a pre-queue: the first tick at or after startsAt admits
        first = last + tick * max(1, math.ceil((q.open_from_ms - last) / tick))
        tokens = min(capacity, per_tick)  # the bucket stays empty until then
    else:
        first = max(q.now_ms, last + tick)
        tokens = min(capacity, q.bucket + (first - last) * q.rate_per_minute / MS_PER_MINUTE)
    place = fans_ahead_who_stay(q.position, q.abandon_share)
    later = 0 if tokens >= place else math.ceil((place - tokens) / per_tick - 1e-9)
    at = first + later * tick
    free = q.max_active - q.active
    if place > free:  # sessions must end first
        needed = place - max(0, free)
        if q.slot_end_ms is not None:
            slot_at = float(q.slot_end_ms)
        else:
            end = q.last_end_ms if q.last_end_ms is not None else q.now_ms
            generations = math.ceil((needed - q.active) / max(1, q.max_active))
            slot_at = end + generations * q.session_ms
        if slot_at > at:
            at = first + tick * math.ceil((slot_at - first) / tick - 1e-9)
    return min(float(MAX_WAIT_SECONDS * 1000), max(0.0, at - q.now_ms))


def answered_seconds(wait_ms: float) -> int:
    """The whole seconds a fan is told (rounded to the nearest second)."""
    return min(MAX_WAIT_SECONDS, math.floor(wait_ms / 1000 + 0.5))


# How far predictions were off -----------------------------------------------------------------

# The buckets of the relative error, in per cent: each holds the errors above the one before up
# to its own edge (1 % wide up to 30 %, then wider); "inf" holds the rest. lib.lua's
# ERROR_BUCKETS are the same list.
ERROR_BUCKETS: tuple[int, ...] = (*range(31), *range(35, 101, 5), 125, 150, 200, 300, 500, 1000)
MIN_WAIT_MS = 1_000  # the error of a wait shorter than a second is taken against one second


def relative_error(actual_ms: float, predicted_ms: float) -> float:
    """|actual - predicted| over the actual wait (at least a second), as a share."""
    return abs(actual_ms - predicted_ms) / max(actual_ms, MIN_WAIT_MS)


def error_bucket(share: float) -> str:
    """The name of the bucket that counts a relative error (as lib.lua's ``error_bucket``)."""
    percent = share * 100
    for edge in ERROR_BUCKETS:
        if percent <= edge:
            return str(edge)
    return "inf"


@dataclass(frozen=True)
class ErrorSummary:
    """Median and p90 of the relative error of ``fans`` predictions (per cent; a bucket's upper
    edge, ``None`` past the last bucket or with no fan)."""

    fans: int
    median_percent: float | None
    p90_percent: float | None


def summarize(counts: Mapping[str, int]) -> ErrorSummary:
    """The median and p90 of a histogram of :func:`error_bucket` names to counts."""
    order = [*(str(edge) for edge in ERROR_BUCKETS), "inf"]
    total = sum(max(0, counts.get(name, 0)) for name in order)
    if total == 0:
        return ErrorSummary(0, None, None)

    def quantile(share: float) -> float | None:
        rank = max(1, math.ceil(share * total))
        seen = 0
        for name in order:
            seen += max(0, counts.get(name, 0))
            if seen >= rank:
                return None if name == "inf" else float(name)
        return None  # pragma: no cover - the counts add up to total

    return ErrorSummary(total, quantile(0.5), quantile(0.9))


RECENT_MINUTES = 10


@dataclass(frozen=True)
class Accuracy:
    """How far the waits predicted at join were off, for a room's stats and ``/metrics``."""

    at_join: ErrorSummary
    last_10_minutes: ErrorSummary
    counts: Mapping[str, int]  # since the room began, per bucket (for a Prometheus histogram)
    # The worst of every answer each fan got (join and every status call), since the room
    # began and over the last ten minutes.
    any_answer: ErrorSummary = ErrorSummary(0, None, None)
    any_answer_last_10_minutes: ErrorSummary = ErrorSummary(0, None, None)


def accuracy(fields: Mapping[str, str], now_ms: int) -> Accuracy:
    """Read ``admit.lua``'s error histograms (``queue/keys.py`` eta_errors_key): the ``a:``
    counts since the room began, and the slots of the last ten minutes (the current minute
    and the nine before it), of the error at join; the same, prefixed ``w``, of the worst
    answer of each fan."""
    minute = now_ms // MS_PER_MINUTE
    # A slot stamped up to a minute ahead of this reader's clock is the current one too: the
    # script that stamped it ran on another clock (or just after a minute began), and leaving
    # it out emptied the window for the seconds around each minute's turn.
    fresh = {
        name[1:] for name, value in fields.items()
        if name.startswith("m") and -1 <= minute - int(value) < RECENT_MINUTES
    }
    total: dict[str, int] = {}
    recent: dict[str, int] = {}
    worst: dict[str, int] = {}
    worst_recent: dict[str, int] = {}
    for name, value in fields.items():
        slot, _, bucket = name.partition(":")
        if not bucket:
            continue
        if slot == "a":
            total[bucket] = total.get(bucket, 0) + int(value)
        elif slot in fresh:
            recent[bucket] = recent.get(bucket, 0) + int(value)
        elif slot == "wa":
            worst[bucket] = worst.get(bucket, 0) + int(value)
        elif slot.startswith("w") and slot[1:] in fresh:
            worst_recent[bucket] = worst_recent.get(bucket, 0) + int(value)
    return Accuracy(summarize(total), summarize(recent), total,
                    summarize(worst), summarize(worst_recent))
