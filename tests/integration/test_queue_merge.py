"""One place per person under any sequence of joins (anonymous, by identity, by identity with
another place's queue token), leaves and ticks: a hypothesis state machine on the real
join.lua against a model of its merge rule. A person's join never makes a second live place, a merge
keeps the better place (admitted beats waiting, then the place nearer the front) and drops the
other, and the room counts exactly the merges the model made."""

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

from admitone.queue import keys
from admitone.queue.models import Place, WaitingRoom
from admitone.queue.store import QueueStore
from tests.integration.queue_support import Clock

T = TypeVar("T")
PREFIX = "merge"  # the Redis key prefix of this test's rooms
IDENTITIES = ("id-a", "id-b", "id-c")


class MergeMachine(RuleBasedStateMachine):
    """The real join script against a model: FIFO waiting list, admitted set, identity map."""

    redis_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.redis = Redis.from_url(self.redis_url)
        self.clock = Clock()
        self.store = QueueStore(self.redis, prefix=PREFIX, clock=self.clock)
        self.show = str(uuid.uuid4())
        self.waiting: list[str] = []
        self.active: set[str] = set()
        self.held: dict[str, str] = {}  # identity -> its visitor
        self.places: list[Place] = []  # every place handed out (their queue tokens)
        self.merged = 0
        room = WaitingRoom(
            show_id=self.show, enabled=True, release_rate_per_minute=120, max_active=1000,
            session_seconds=3600, queue_mode="FIFO", opens_at=None, starts_at=None,
            paused=False, fail_open=False, abandon_grace_seconds=86_400, pow_difficulty_bits=0,
            updated_at=datetime.now(UTC),
        )
        self.run(self.store.sync(room, []))
        self.run(self.store.tick(self.show, 1, 1000))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def _live(self, visitor: str) -> bool:
        return visitor in self.active or visitor in self.waiting

    def _rank(self, visitor: str) -> int:
        return 0 if visitor in self.active else self.waiting.index(visitor) + 1

    def _new_place(self, place: Place, identity: str = "") -> None:
        assert place.status == "WAITING"
        assert not self._live(place.visitor_id)
        self.waiting.append(place.visitor_id)
        self.places.append(place)
        if identity:
            self.held[identity] = place.visitor_id

    @rule()
    def join_anonymously(self) -> None:
        self._new_place(self.run(self.store.join(self.show)))

    @rule(identity=st.sampled_from(IDENTITIES))
    def join_as(self, identity: str) -> None:
        """Another tab or device of a known person, without a queue token: its one place."""
        place = self.run(self.store.join(self.show, identity=identity))
        held = self.held.get(identity)
        if held is not None and self._live(held):
            assert place.visitor_id == held
        else:
            self._new_place(place, identity)

    @precondition(lambda self: bool(self.places))
    @rule(identity=st.sampled_from(IDENTITIES), data=st.data())
    def join_as_with_a_token(self, identity: str, data: st.DataObject) -> None:
        """A person with a place of their own joining with another place's queue token (a
        second tab that joined before they proved who they are): the better one is kept."""
        token = self.places[data.draw(st.integers(0, 1_000_000)) % len(self.places)]
        place = self.run(self.store.join(
            self.show, identity=identity, token_visitor=token.visitor_id,
            token_ticket=token.ticket, token_epoch=token.epoch))
        held = self.held.get(identity)
        held_live = held is not None and held != token.visitor_id and self._live(held)
        token_live = self._live(token.visitor_id)
        if held_live and token_live:
            assert held is not None
            keep, drop = held, token.visitor_id
            if self._rank(token.visitor_id) < self._rank(held):
                keep, drop = token.visitor_id, held
            assert place.visitor_id == keep
            if drop in self.active:
                return  # both admitted already: nothing to merge
            self.waiting.remove(drop)
            self.merged += 1
            self.held[identity] = keep
        elif held_live:
            assert place.visitor_id == held
        elif token_live:
            assert place.visitor_id == token.visitor_id
            self.held[identity] = token.visitor_id
        else:
            self._new_place(place, identity)

    @precondition(lambda self: bool(self.waiting))
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        visitor = self.waiting[data.draw(st.integers(0, 1_000_000)) % len(self.waiting)]
        assert self.run(self.store.leave(self.show, visitor)) is True
        self.waiting.remove(visitor)

    @rule()
    def tick(self) -> None:
        """Two a second: the first fans waiting are let in, in order."""
        self.clock.advance(1)
        result = self.run(self.store.tick(self.show, 1, 1000))
        assert result is not None
        expected, self.waiting = self.waiting[:len(result.admitted)], \
            self.waiting[len(result.admitted):]
        assert result.admitted == expected
        self.active.update(result.admitted)

    @invariant()
    def redis_agrees_with_the_model(self) -> None:
        waiting = self.run(self.redis.zrange(keys.waiting_key(PREFIX, self.show), 0, -1))
        assert [v.decode() for v in waiting] == self.waiting
        progress = self.run(self.store.progress(self.show))
        assert progress.merged_total == self.merged

    @invariant()
    def each_identity_names_its_one_place(self) -> None:
        """Redis's identity map names the place the model says each person holds. (Two people
        may share one place, when one joins with the other's queue token: that is one place
        for both, never two for one.)"""
        stored = self.run(self.redis.hgetall(keys.identities_key(PREFIX, self.show)))
        names = {k.decode(): v.decode() for k, v in stored.items()}
        for identity, visitor in self.held.items():
            assert names.get(identity) == visitor

    def teardown(self) -> None:
        room = [*keys.RoomKeys.of(PREFIX, self.show), keys.identities_key(PREFIX, self.show)]
        self.run(self.redis.delete(*room))
        self.run(self.redis.aclose())
        self.loop.close()


def test_one_identity_keeps_one_place_the_better_one(redis_url: str) -> None:
    """Whatever joins, token joins, leaves and ticks come, join.lua merges exactly as the
    model does and counts each merge once."""
    MergeMachine.redis_url = redis_url
    run_state_machine_as_test(
        MergeMachine,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None),
    )
