"""The admission maths (admission/rate.py), proof-of-work checks and client binding, pure."""

from __future__ import annotations

import hashlib
import math
import time

from hypothesis import given
from hypothesis import strategies as st

from admitone.admission.pow import ProofOfWork, leading_zero_bits, solve
from admitone.admission.rate import (
    MAX_WAIT_SECONDS,
    admit_count,
    bucket_capacity,
    estimated_wait_seconds,
    refill,
)
from admitone.errors import ProofOfWorkInvalidError
from admitone.gateway.client import client_binding, network_of

rates = st.integers(1, 1_000_000)
ticks = st.integers(100, 5000)


@given(rate=rates, tick_ms=ticks, bucket=st.floats(0, 1e6), elapsed=st.integers(-10_000, 10**9))
def test_the_bucket_never_holds_more_than_two_ticks(
    rate: int, tick_ms: int, bucket: float, elapsed: int
) -> None:
    """Whatever the gap since the last tick, the bucket holds at most two ticks' worth, and a
    tick lets in at most that many whole fans (one, below a fan a tick)."""
    capacity = bucket_capacity(rate, tick_ms)
    refilled = refill(min(bucket, capacity), elapsed, rate, tick_ms)
    per_tick = rate * tick_ms / 60_000
    assert refilled <= capacity
    assert math.floor(capacity) <= max(1, math.floor(2 * per_tick))
    assert capacity >= 1 + min(per_tick, 1) - 1e-9
    assert refilled >= min(bucket, capacity)


@given(rate=rates, tick_ms=ticks, gaps=st.lists(st.integers(0, 3000), min_size=1, max_size=60),
       max_active=st.integers(1, 10**6), start=st.floats(0, 1))
def test_admissions_never_beat_the_rate_by_more_than_two_ticks(
    rate: int, tick_ms: int, gaps: list[int], max_active: int, start: float
) -> None:
    """Over any run of ticks the admissions stay within rate x time plus what the bucket held
    at the start (at most two ticks' worth), and never fill more than maxActive."""
    capacity = bucket_capacity(rate, tick_ms)
    bucket, admitted, active = start * capacity, 0, 0
    allowed = rate * sum(gaps) / 60_000 + bucket
    for gap in gaps:
        bucket = refill(bucket, gap, rate, tick_ms)
        count = admit_count(bucket, max_active, active, waiting=10**9)
        assert active + count <= max_active
        bucket -= count
        admitted += count
        active += count
    assert admitted <= math.floor(allowed + 1e-6)
    assert admitted <= rate * sum(gaps) / 60_000 + capacity + 1e-6


@given(rate=st.integers(1, 1_000_000), tick_ms=ticks, data=st.data())
def test_late_ticks_lose_nothing(rate: int, tick_ms: int, data: st.DataObject) -> None:
    """Ticks up to almost two ticks apart (a busy machine) still admit exactly the rate: the
    lateness is not lost (a bucket of one tick lost it, 1.8 % of a minute in BENCHMARKS.md)."""
    per_tick = rate * tick_ms / 60_000
    longest = 2 * tick_ms - math.ceil(60_000 / rate) if per_tick >= 1 else tick_ms
    gaps = data.draw(st.lists(st.integers(0, longest), min_size=1, max_size=120))
    bucket, admitted = 0.0, 0
    for gap in gaps:
        bucket = refill(bucket, gap, rate, tick_ms)
        count = admit_count(bucket, 10**9, 0, 10**9)
        bucket -= count
        admitted += count
    earned = rate * sum(gaps) / 60_000
    assert math.floor(earned) - 1 <= admitted <= earned + 1e-6


def test_one_late_tick_admits_its_lateness() -> None:
    """At 600 a minute, a tick 1.5 s after the last admits 15, not the 10 of one tick."""
    bucket = refill(0.0, 1500, 600, 1000)
    assert admit_count(bucket, 10**6, 0, 10**6) == 15


@given(bucket=st.floats(0, 1e6), max_active=st.integers(1, 10**6), active=st.integers(0, 2 * 10**6),
       waiting=st.integers(0, 10**6))
def test_admit_count_respects_every_bound(
    bucket: float, max_active: int, active: int, waiting: int
) -> None:
    """How many enter is bounded by the whole tokens, the free slots and the fans waiting."""
    count = admit_count(bucket, max_active, active, waiting)
    assert 0 <= count <= min(math.floor(bucket), waiting)
    assert count == 0 or active + count <= max_active


def test_a_steady_rate_admits_its_number_per_minute() -> None:
    """At 600 a minute with one-second ticks, sixty ticks admit 600 (the first refills one)."""
    bucket, admitted = 0.0, 0
    for _ in range(61):
        bucket = refill(bucket, 1000, 600, 1000)
        count = admit_count(bucket, 10**6, 0, 10**6)
        bucket -= count
        admitted += count
    assert admitted == 610


@given(position=st.integers(1, 10**7), observed=st.floats(0, 1e6), rate=rates)
def test_the_wait_estimate_uses_the_observed_rate(position: int, observed: float, rate: int) -> None:
    """The estimate is position over the observed rate; the configured rate only stands in
    until something was observed."""
    wait = estimated_wait_seconds(position, observed, rate)
    per_minute = observed if observed > 0 else rate
    assert wait == min(MAX_WAIT_SECONDS, math.ceil(min(position * 60 / per_minute, 10**9)))
    assert 0 < wait <= MAX_WAIT_SECONDS


def test_proof_of_work_is_checked_in_microseconds_and_binds_show_and_time() -> None:
    """A solved challenge passes for its own show within its lifetime only; checking costs one
    hash (well under a millisecond)."""
    checker = ProofOfWork("secret-for-tests-0123456789", ttl_seconds=60)
    challenge = checker.issue("show-a", 10)
    nonce = solve(challenge.text, 10)
    assert leading_zero_bits(hashlib.sha256((challenge.text + nonce).encode()).digest()) >= 10
    started = time.perf_counter()
    for _ in range(1000):
        solved = checker.check("show-a", challenge.text, nonce)
    per_check = (time.perf_counter() - started) / 1000
    assert per_check < 0.001
    assert solved.bits == 10
    for show, text, answer, now in [
        ("show-b", challenge.text, nonce, None),
        ("show-a", challenge.text, nonce, time.time() + 120),
        ("show-a", challenge.text.replace("p1.10.", "p1.1."), nonce, None),
        ("show-a", "p1.x", nonce, None),
    ]:
        try:
            checker.check(show, text, answer, now=now)
        except ProofOfWorkInvalidError:
            continue
        raise AssertionError(f"accepted {show} {text} {now}")


def test_leading_zero_bits() -> None:
    """Zero bits are counted from the first byte on."""
    assert leading_zero_bits(b"\x00\x00\xff") == 16
    assert leading_zero_bits(b"\x0f") == 4
    assert leading_zero_bits(b"\x80") == 0


def test_the_binding_follows_network_and_browser() -> None:
    """Addresses of one /24 (IPv4) or /56 (IPv6) bind alike; another network or User-Agent does
    not."""
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2:3::1") == "2001:db8:1::/56"
    assert client_binding("203.0.113.1", "UA") == client_binding("203.0.113.254", "UA")
    assert client_binding("203.0.113.1", "UA") != client_binding("203.0.114.1", "UA")
    assert client_binding("203.0.113.1", "UA") != client_binding("203.0.113.1", "UA2")
    assert network_of("unknown") == "unknown"
