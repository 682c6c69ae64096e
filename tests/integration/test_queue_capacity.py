"""Admission under any sequence of joins, leaves, ticks, session ends, rate and capacity
changes, pauses, status polls and losses of Redis's room state (a hypothesis state machine on
the real Redis scripts): never more than maxActive at once, never anyone admitted twice, never
more than two ticks' worth per tick — and exactly the admissions that the reference maths of
admission/rate.py predicts. Every join and status answer gives the place the model gives: a
new fan last, a fan whose place Redis lost back at its old ticket, ahead of those after it."""

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
from admitone.queue.models import Place, WaitingRoom
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
        self.waiting: list[str] = []  # in ticket order, as the queue is
        self.active: dict[str, int] = {}
        self.tokens: dict[str, tuple[int, str]] = {}  # visitor -> its token's (ticket, epoch)
        self.lost: set[str] = set()  # waiting fans whose place went with Redis's room state
        self.ever_admitted: set[str] = set()
        self.bucket = 0.0
        self.bucket_at: int | None = None
        self._sync()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def _sync(self, *, ticket_floor: int = 0) -> None:
        room = WaitingRoom(
            show_id=self.show, enabled=True, release_rate_per_minute=self.rate,
            max_active=self.max_active, session_seconds=self.session_seconds, queue_mode="FIFO",
            opens_at=None, starts_at=None, paused=self.paused, fail_open=False,
            abandon_grace_seconds=86_400, pow_difficulty_bits=0, updated_at=datetime.now(UTC),
        )
        sessions = list(self.active.items())  # what PostgreSQL recorded of the sessions
        self.run(self.store.sync(room, [], ticket_floor=ticket_floor, sessions=sessions))

    def _assert_place(self, place: Place, visitor: str) -> None:
        """``place`` is where the model has ``visitor``: waiting at its index, or admitted."""
        if visitor in self.active:
            assert (place.status, place.at_ms) == ("ADMITTED", self.active[visitor])
        else:
            assert place.status == "WAITING"
            assert place.position == self.waiting.index(visitor) + 1
            assert place.total == len(self.waiting)
            assert place.ticket == self.tokens[visitor][0]
        assert place.visitor_id == visitor
        assert place.active == len(self.active)

    def _restored(self, visitor: str) -> None:
        """The model of a lost place coming back: at its ticket, ahead of later tickets (a
        ticket given out again after a lagging floor ties; a sorted set orders ties by name)."""
        self.lost.discard(visitor)
        self.waiting.append(visitor)
        self.waiting.sort(key=lambda v: (self.tokens[v][0], v))

    @rule(fans=st.integers(1, 6))
    def join(self, fans: int) -> None:
        for _ in range(fans):
            # Ids in join order, not random: which fan a rule picks, and how tied tickets order
            # after a lost state, must replay alike for hypothesis to shrink a failure.
            visitor = f"fan{len(self.tokens):05d}"
            place = self.run(self.store.join(self.show, visitor_id=visitor))
            self.waiting.append(visitor)
            self.tokens[visitor] = (place.ticket, place.epoch)
            assert all(place.ticket > self.tokens[v][0] for v in self.waiting[:-1])
            self._assert_place(place, visitor)

    @precondition(lambda self: bool(self.waiting or self.active or self.lost))
    @rule(data=st.data(), again=st.booleans())
    def ask(self, data: st.DataObject, again: bool) -> None:
        """A fan polls its status, or joins again with its queue token (``again``)."""
        candidates = [*self.waiting, *self.active, *sorted(self.lost)]
        visitor = candidates[data.draw(st.integers(0, 1_000_000)) % len(candidates)]
        ticket, epoch = self.tokens[visitor]
        if again:
            place = self.run(self.store.join(self.show, token_visitor=visitor,
                                             token_ticket=ticket, token_epoch=epoch))
        else:
            place = self.run(self.store.status(self.show, visitor, ticket, epoch))
        if visitor in self.lost:
            self._restored(visitor)
        self._assert_place(place, visitor)

    @rule(data=st.data())
    def lose_state(self, data: st.DataObject) -> None:
        """Redis loses the room's keys; the room is synced again, as after a restart: a new
        epoch, the live sessions put back, and the ticket counter at the floor PostgreSQL
        knows, which may lag the tickets given out (restored places then move it on)."""
        self.run(self.redis.delete(*keys.RoomKeys.of(PREFIX, self.show)))
        self.lost.update(self.waiting)
        self.waiting = []
        self.bucket, self.bucket_at = 0.0, None
        given = max((t for t, _ in self.tokens.values()), default=0)
        self._sync(ticket_floor=data.draw(st.integers(0, given)))

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


def test_a_new_place_comes_after_a_place_restored_above_the_counter(redis_url: str) -> None:
    """Redis lost the room while PostgreSQL knew no ticket: the fan of ticket 3 comes back at
    3, so the counter moves past it and the next new fan is 4th, behind it (join.lua puts a
    new place last without asking where it stands, which holds only while that is so)."""
    AdmissionMachine.redis_url = redis_url
    machine = AdmissionMachine()
    try:
        machine.join(3)
        machine.run(machine.redis.delete(*keys.RoomKeys.of(PREFIX, machine.show)))
        machine._sync(ticket_floor=0)
        ticket, epoch = machine.tokens["fan00002"]
        back = machine.run(machine.store.status(machine.show, "fan00002", ticket, epoch))
        assert (back.status, back.ticket, back.position) == ("WAITING", 3, 1)
        new = machine.run(machine.store.join(machine.show, visitor_id="fan-new"))
        assert (new.ticket, new.position, new.total) == (4, 2, 2)
    finally:
        machine.teardown()
