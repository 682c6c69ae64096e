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
def test_the_bucket_never_holds_more_than_one_tick(
    rate: int, tick_ms: int, bucket: float, elapsed: int
) -> None:
    """Whatever the gap since the last tick, the bucket holds at most one tick's worth (and at
    least one fan), so a room that resumes releases smoothly, never in a burst."""
    capacity = bucket_capacity(rate, tick_ms)
    refilled = refill(min(bucket, capacity), elapsed, rate, tick_ms)
    assert refilled <= capacity
    assert capacity >= 1
    assert refilled >= min(bucket, capacity)


@given(rate=rates, tick_ms=ticks, gaps=st.lists(st.integers(0, 3000), min_size=1, max_size=60),
       max_active=st.integers(1, 10**6))
def test_admissions_never_beat_the_rate_by_more_than_a_tick(
    rate: int, tick_ms: int, gaps: list[int], max_active: int
) -> None:
    """Over any run of ticks the admissions stay within rate × time plus one tick's worth, and
    never fill more than maxActive."""
    bucket, admitted, active = 0.0, 0, 0
    for gap in gaps:
        bucket = refill(bucket, gap, rate, tick_ms)
        count = admit_count(bucket, max_active, active, waiting=10**9)
        assert active + count <= max_active
        bucket -= count
        admitted += count
        active += count
    allowed = rate * sum(gaps) / 60_000 + bucket_capacity(rate, tick_ms)
    assert admitted <= math.floor(allowed)


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
