"""The console's live figures are shared by every worker through Redis: two processes' worth
of recorders write, a third reads the same sums, histograms and funnel."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from admitone.booking_core import keys
from admitone.booking_core.live_stats import MINUTE_TTL_SECONDS, LiveStats, quantile_ms


async def test_two_workers_add_up_and_a_third_reads_the_sum(redis_url: str) -> None:
    """Counters add, the last gauge sample wins, latency buckets merge into one p50 / p99 and
    funnel steps count each visitor once, whichever worker saw it."""
    redis = Redis.from_url(redis_url)
    try:
        one, two, reader = LiveStats(redis), LiveStats(redis), LiveStats(redis)
        for _ in range(30):
            one.observe("s", "lock", 0.004)  # the 5 ms bucket
        for _ in range(70):
            two.observe("s", "lock", 0.150)  # the 200 ms bucket
        one.count("s", "admitted", 3)
        two.count("s", "admitted", 4)
        one.gauge("s", "waiting", 10)
        one.visit("s", "joined", ["a", "b"])
        two.visit("s", "joined", ["b", "c"])
        await asyncio.gather(one.flush(), two.flush())
        two.gauge("s", "waiting", 7)
        await two.flush()
        now = (await reader.minutes("s", count=1))[-1]
        assert now.count("admitted") == 7
        assert now.gauges["waiting"] == 7
        assert quantile_ms(now.latency["lock"], 0.5) == 200
        assert quantile_ms(now.latency["lock"], 0.25) == 5
        assert (await reader.funnel("s"))["joined"] == 3
        ttl = await redis.ttl(keys.live_minute_key("admitone", "s", now.minute))
        assert 0 < ttl <= MINUTE_TTL_SECONDS
        for stats in (one, two, reader):
            await stats.aclose()
    finally:
        await redis.aclose()


async def test_events_reach_redis_within_a_second_without_a_flush_call(redis_url: str) -> None:
    """Recording starts the once-a-second writer by itself."""
    redis = Redis.from_url(redis_url)
    try:
        stats = LiveStats(redis, flush_seconds=0.2)
        stats.visit("t", "locked", ["v1"])
        await asyncio.sleep(0.6)
        assert await redis.scard(keys.funnel_key("admitone", "t", "locked")) == 1
        await stats.aclose()
    finally:
        await redis.aclose()
