"""Admission under any sequence of joins, leaves, ticks, session ends, rate and capacity
changes and pauses (a hypothesis state machine on the real Redis scripts): never more than
maxActive at once, never anyone admitted twice, never more than two ticks' worth per tick —
and exactly the admissions that the reference maths of admission/rate.py predicts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from redis.asyncio import Redis

from admitone.admission.rate import admit_count, bucket_capacity, refill
from admitone.queue import keys
from admitone.queue.models import WaitingRoom
from admitone.queue.store import QueueStore
from tests.integration.queue_support import Clock

T = TypeVar("T")
TICK_MS = 1000
PREFIX = "capacity"  # the Redis key prefix of this test's rooms


class AdmissionMachine(RuleBasedStateMachine):
    """The real scripts against a model of the queue and the token bucket."""

    redis_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.redis = Redis.from_url(self.redis_url)
        self.clock = Clock()
        self.store = QueueStore(self.redis, prefix=PREFIX, clock=self.clock)
        self.show = str(uuid.uuid4())
        self.rate, self.max_active, self.paused, self.session_seconds = 600, 5, False, 20
        self.waiting: list[str] = []
        self.active: dict[str, int] = {}
        self.ever_admitted: set[str] = set()
        self.bucket = 0.0
        self.bucket_at: int | None = None
        self._sync()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def _sync(self) -> None:
        room = WaitingRoom(
            show_id=self.show, enabled=True, release_rate_per_minute=self.rate,
            max_active=self.max_active, session_seconds=self.session_seconds, queue_mode="FIFO",
            opens_at=None, starts_at=None, paused=self.paused, fail_open=False,
            abandon_grace_seconds=86_400, pow_difficulty_bits=0, updated_at=datetime.now(UTC),
        )
        self.run(self.store.sync(room, []))

    @rule(fans=st.integers(1, 6))
    def join(self, fans: int) -> None:
        for _ in range(fans):
            place = self.run(self.store.join(self.show))
            assert place.status == "WAITING"
            self.waiting.append(place.visitor_id)

    @precondition(lambda self: bool(self.waiting or self.active))
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        # Visitor ids are random per run; drawing an index keeps the draw replayable.
        candidates = [*self.waiting, *self.active]
        visitor = candidates[data.draw(st.integers(0, 1_000_000)) % len(candidates)]
        assert self.run(self.store.leave(self.show, visitor)) is True
        if visitor in self.active:
            del self.active[visitor]
        else:
            self.waiting.remove(visitor)

    @rule(elapsed_ms=st.integers(0, 2500))
    def tick(self, elapsed_ms: int) -> None:
        self.clock.advance(elapsed_ms / 1000)
        self._tick()

    @rule()
    def sessions_end(self) -> None:
        self.clock.advance(self.session_seconds)
        self._tick()

    @rule(rate=st.sampled_from([1, 7, 60, 600, 1000, 6000]))
    def change_rate(self, rate: int) -> None:
        self.rate = rate
        self._sync()

    @rule(max_active=st.integers(1, 8))
    def change_capacity(self, max_active: int) -> None:
        self.max_active = max_active
        self._sync()

    @rule(paused=st.booleans())
    def pause(self, paused: bool) -> None:
        self.paused = paused
        self._sync()

    def _tick(self) -> None:
        now = self.clock.now_ms
        self.active = {v: ends for v, ends in self.active.items() if ends > now}
        expected: list[str] = []
        if self.paused:
            self.bucket, self.bucket_at = 0.0, now
        else:
            since = self.bucket_at if self.bucket_at is not None else now
            bucket = refill(self.bucket, now - since, self.rate, TICK_MS)
            count = admit_count(bucket, self.max_active, len(self.active), len(self.waiting))
            expected, self.waiting = self.waiting[:count], self.waiting[count:]
            self.bucket, self.bucket_at = float(f"{bucket - count:.6f}"), now
        result = self.run(self.store.tick(self.show, 1, TICK_MS))
        assert result is not None
        assert result.abandoned == 0
        assert result.admitted == expected
        assert not self.ever_admitted & set(result.admitted), "a fan was admitted twice"
        assert len(result.admitted) <= bucket_capacity(self.rate, TICK_MS)
        self.ever_admitted.update(result.admitted)
        for visitor in result.admitted:
            self.active[visitor] = now + self.session_seconds * 1000
        if result.admitted:
            assert result.active <= self.max_active
        assert (result.active, result.waiting) == (len(self.active), len(self.waiting))

    @invariant()
    def redis_agrees_with_the_model(self) -> None:
        active = self.run(self.redis.zcard(keys.active_key(PREFIX, self.show)))
        waiting = self.run(self.redis.zrange(keys.waiting_key(PREFIX, self.show), 0, -1))
        assert [v.decode() for v in waiting] == self.waiting
        assert active == len(self.active)

    def teardown(self) -> None:
        self.run(self.redis.delete(*keys.RoomKeys.of(PREFIX, self.show)))
        self.run(self.redis.aclose())
        self.loop.close()


def test_admission_never_exceeds_capacity_nor_admits_anyone_twice(redis_url: str) -> None:
    """Whatever joins, leaves, ticks, session ends, rate and capacity changes and pauses come,
    admission follows the bucket maths exactly, stays within maxActive and two ticks' worth,
    and admits nobody twice."""
    AdmissionMachine.redis_url = redis_url
    run_state_machine_as_test(
        AdmissionMachine,
        settings=settings(max_examples=40, stateful_step_count=40, deadline=None),
    )
