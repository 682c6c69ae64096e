"""The random pre-queue: fans who arrive between opensAt and startsAt are shuffled at
startsAt, ahead of everyone who comes later, and numbered in the shuffled order."""

from __future__ import annotations

import itertools
import random
import uuid
from collections import Counter
from datetime import UTC, datetime

from redis.asyncio import Redis

from admitone.queue import keys
from admitone.queue.models import WaitingRoom
from admitone.queue.store import QueueStore
from tests.integration.queue_support import Clock

PREFIX = "prequeue"  # the Redis key prefix of these tests' rooms

# Chi-square critical value for 23 degrees of freedom at p = 0.001.
CHI2_23_P001 = 49.73


def _room(show_id: str, starts_ms: int, **changes: object) -> WaitingRoom:
    values: dict[str, object] = {
        "show_id": show_id, "enabled": True, "release_rate_per_minute": 60_000,
        "max_active": 100_000, "session_seconds": 600, "queue_mode": "RANDOM_PREQUEUE",
        "opens_at": None, "starts_at": datetime.fromtimestamp(starts_ms / 1000, tz=UTC),
        "paused": False, "fail_open": False, "abandon_grace_seconds": 600,
        "pow_difficulty_bits": 0, "updated_at": datetime.now(UTC),
    }
    values.update(changes)
    return WaitingRoom(**values)  # type: ignore[arg-type]


async def _shuffled_order(store: QueueStore, clock: Clock, fans: int) -> list[int]:
    """Arrival indexes of ``fans`` pre-queue fans in their order after startsAt."""
    show = str(uuid.uuid4())
    await store.sync(_room(show, clock.now_ms + 60_000), [])
    arrived = [(await store.join(show)).visitor_id for _ in range(fans)]
    clock.advance(61)
    assert await store.tick(show, 1, 1000) is not None
    order = [v.decode() for v in await store.redis.zrange(keys.waiting_key(store.prefix, show), 0, -1)]
    return [arrived.index(visitor) for visitor in order]


async def test_the_prequeue_order_is_uniformly_random(redis: Redis) -> None:
    """Across many runs every order of four pre-queue fans comes up about equally often (a
    chi-square test with a fixed seed), so arriving early in the pre-queue gives no edge."""
    clock = Clock()
    store = QueueStore(redis, prefix=PREFIX, clock=clock, rng=random.Random(20240611))
    runs, fans = 480, 4
    counts: Counter[tuple[int, ...]] = Counter()
    for _ in range(runs):
        counts[tuple(await _shuffled_order(store, clock, fans))] += 1
    expected = runs / 24
    chi2 = sum((counts[p] - expected) ** 2 / expected
               for p in itertools.permutations(range(fans)))
    assert chi2 < CHI2_23_P001, (chi2, counts)
    assert counts[(0, 1, 2, 3)] < runs / 10  # arrival order is not kept
    first = Counter(order[0] for order in counts.elements())
    assert min(first.values()) > runs / 4 * 0.7  # each arrival is first about a quarter of runs


async def test_after_starts_at_the_prequeue_is_numbered_ahead_of_later_fans(
    redis: Redis,
) -> None:
    """At startsAt the pre-queue gets tickets 1..n in its shuffled order; fans arriving later
    get n+1, n+2, … in arrival order, and admission follows the tickets."""
    clock = Clock()
    store = QueueStore(redis, prefix=PREFIX, clock=clock, rng=random.Random(7))
    show = str(uuid.uuid4())
    await store.sync(_room(show, clock.now_ms + 10_000, release_rate_per_minute=120), [])
    early = [await store.join(show) for _ in range(20)]
    assert {place.status for place in early} == {"PREQUEUE"}
    assert {place.ticket for place in early} == {0}
    clock.advance(11)
    late = [await store.join(show) for _ in range(5)]  # the first of these numbers the pre-queue
    assert [place.ticket for place in late] == [21, 22, 23, 24, 25]
    assert {place.status for place in late} == {"WAITING"}
    numbered = [await store.status(show, p.visitor_id, 0, p.epoch) for p in early]
    assert sorted(place.ticket for place in numbered) == list(range(1, 21))
    assert [place.ticket for place in numbered] != list(range(1, 21))
    by_ticket = {place.ticket: place.visitor_id for place in numbered + late}
    admitted: list[str] = []
    for _ in range(15):
        result = await store.tick(show, 1, 1000)
        assert result is not None
        admitted += result.admitted
        clock.advance(1)
    assert admitted == [by_ticket[t] for t in range(1, len(admitted) + 1)]
    progress = await store.progress(show)
    assert progress.admitted_through == len(admitted)


async def test_fifo_mode_numbers_the_prequeue_in_arrival_order(redis: Redis) -> None:
    """In FIFO mode pre-queue fans are PREQUEUE until startsAt but keep their arrival order."""
    clock = Clock()
    store = QueueStore(redis, prefix=PREFIX, clock=clock)
    show = str(uuid.uuid4())
    await store.sync(_room(show, clock.now_ms + 5_000, queue_mode="FIFO"), [])
    places = [await store.join(show) for _ in range(5)]
    assert [(p.status, p.ticket) for p in places] == [("PREQUEUE", n) for n in range(1, 6)]
    assert (await store.tick(show, 1, 1000)).admitted == []  # type: ignore[union-attr]
    clock.advance(6)
    result = await store.tick(show, 1, 1000)
    assert result is not None
    assert result.admitted == [p.visitor_id for p in places]

