"""The ETA model (admission/eta.py), pure: it comes true when the ticks run on time, it never
grows with a better place, a higher rate or more fans ahead leaving, and it waits for sessions
to end when maxActive is reached; the error histogram's quantiles are those of its counts."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from admitone.admission import eta
from admitone.admission.rate import admit_count, refill

NOW = 1_700_000_000_000
rates = st.integers(1, 100_000)
ticks = st.sampled_from([250, 500, 1000, 2000])


@st.composite
def queues(draw: st.DrawFn) -> eta.Queue:
    rate, tick = draw(rates), draw(ticks)
    per_tick = rate * tick / 60_000
    since = draw(st.integers(0, 3 * tick))
    return eta.Queue(
        position=draw(st.integers(1, 200_000)), now_ms=NOW, rate_per_minute=rate, tick_ms=tick,
        bucket=draw(st.floats(0, min(0.999, 2 * per_tick))), last_tick_ms=NOW - since,
        abandon_share=draw(st.sampled_from([0.0, 0.0, 0.1, 0.5])),
    )


def _simulated_wait_ms(q: eta.Queue) -> float:
    """Run admit.lua's sums (admission/rate.py) tick by tick, on time, a full queue ahead."""
    assert q.last_tick_ms is not None
    at, bucket, admitted = q.last_tick_ms, q.bucket, 0
    tick = at + q.tick_ms
    first = max(q.now_ms, tick)
    while True:
        bucket = refill(bucket, first - at, q.rate_per_minute, q.tick_ms)
        count = admit_count(bucket, 10**12, 0, 10**12)
        bucket -= count
        admitted += count
        at = first
        if admitted >= q.position:
            return first - q.now_ms
        first += q.tick_ms


@settings(max_examples=60)
@given(q=queues())
def test_with_ticks_on_time_and_nobody_leaving_the_prediction_comes_true(q: eta.Queue) -> None:
    """Ticks on time, no fan ahead leaving, no capacity bound: the predicted wait is when the
    tick that lets the fan in runs: exactly when a tick brings whole fans, else within one tick
    (the tick-by-tick float sums may cross a whole fan one tick apart from the product)."""
    q = eta.Queue(**{**q.__dict__, "abandon_share": 0.0, "position": min(q.position, 2_000),
                     "rate_per_minute": max(60, q.rate_per_minute)})
    predicted = eta.predicted_wait_ms(q)
    assert predicted is not None
    simulated = _simulated_wait_ms(q)
    if (q.rate_per_minute * q.tick_ms) % 60_000 == 0 and q.bucket == 0:
        assert predicted == simulated
    else:
        assert abs(predicted - simulated) <= q.tick_ms


@given(q=queues())
def test_a_later_place_never_waits_less(q: eta.Queue) -> None:
    """The fan behind never gets a shorter estimate than the fan ahead."""
    behind = eta.Queue(**{**q.__dict__, "position": q.position + 1})
    assert (eta.predicted_wait_ms(behind) or 0) >= (eta.predicted_wait_ms(q) or 0)


@given(q=queues(), more=st.integers(1, 10_000))
def test_a_higher_rate_never_lengthens_the_wait(q: eta.Queue, more: int) -> None:
    faster = eta.Queue(**{**q.__dict__, "rate_per_minute": q.rate_per_minute + more,
                          "bucket": 0.0})
    slower = eta.Queue(**{**q.__dict__, "bucket": 0.0})
    assert (eta.predicted_wait_ms(faster) or 0) <= (eta.predicted_wait_ms(slower) or 0)


@given(q=queues(), share=st.floats(0, 1))
def test_fans_ahead_leaving_never_lengthens_the_wait(q: eta.Queue, share: float) -> None:
    """Leavers ahead take no token: a higher abandonment share is never a longer wait."""
    staying = eta.Queue(**{**q.__dict__, "abandon_share": 0.0})
    leaving = eta.Queue(**{**q.__dict__, "abandon_share": share})
    assert (eta.predicted_wait_ms(leaving) or 0) <= (eta.predicted_wait_ms(staying) or 0)


@given(q=queues(), ends_in=st.integers(1, 600_000))
def test_with_maxactive_reached_the_fan_waits_for_a_session_to_end(
    q: eta.Queue, ends_in: int
) -> None:
    """No free slot: the fan is let in no sooner than the session it needs ends, at a tick."""
    full = eta.Queue(**{**q.__dict__, "active": 100, "max_active": 100, "session_ms": 600_000,
                        "slot_end_ms": NOW + ends_in, "abandon_share": 0.0})
    wait = eta.predicted_wait_ms(full)
    assert wait is not None
    assert wait >= ends_in or wait == eta.MAX_WAIT_SECONDS * 1000


def test_before_startsat_the_first_tick_after_it_admits() -> None:
    """In a pre-queue the first fans are let in at the first tick at or after startsAt."""
    q = eta.Queue(position=1, now_ms=NOW, rate_per_minute=600, tick_ms=1000, bucket=0.0,
                  last_tick_ms=NOW - 300, open_from_ms=NOW + 10_000)
    assert eta.predicted_wait_ms(q) == 10_700


def test_no_rate_predicts_nothing_and_the_answer_rounds() -> None:
    q = eta.Queue(position=3, now_ms=NOW, rate_per_minute=0, tick_ms=1000, bucket=0.0,
                  last_tick_ms=None)
    assert eta.predicted_wait_ms(q) is None
    assert [eta.answered_seconds(ms) for ms in (0, 499, 500, 1_400, 10**15)] == [
        0, 0, 1, 1, eta.MAX_WAIT_SECONDS]


@given(errors=st.lists(st.floats(0, 20), min_size=1, max_size=300))
def test_the_histogram_quantiles_are_the_counts_quantiles(errors: list[float]) -> None:
    """Median and p90 from the bucket counts are the bucket edges holding the sorted errors'
    median and p90 (nearest rank), never below the true value."""
    counts: dict[str, int] = {}
    for share in errors:
        name = eta.error_bucket(share)
        counts[name] = counts.get(name, 0) + 1
    summary = eta.summarize(counts)
    ordered = sorted(errors)
    assert summary.fans == len(errors)
    for quantile, got in ((0.5, summary.median_percent), (0.9, summary.p90_percent)):
        true = ordered[max(1, math.ceil(quantile * len(ordered))) - 1]
        if eta.error_bucket(true) == "inf":
            assert got is None
        else:
            assert got is not None
            assert got >= true * 100 - 1e-9
            assert got == float(eta.error_bucket(true))


def test_relative_error_takes_short_waits_against_a_second() -> None:
    assert eta.relative_error(10_000, 8_000) == 0.2
    assert eta.relative_error(200, 0) == 0.2
    assert eta.summarize({}) == eta.ErrorSummary(0, None, None)
