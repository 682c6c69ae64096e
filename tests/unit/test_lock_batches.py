"""The lock coalescer's scheduling (booking_core/lock_batches.py), with plain coroutines in place
of the database: who goes alone, who waits for the next batch, in what order, and what a caller
that stops waiting or a failed batch does to the others. The database side of batches is
tests/integration/test_lock_batches.py."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from admitone.booking_core.lock_batches import LockCoalescer, LockRequest
from admitone.booking_core.seat_repository import LockResult

SHOW = uuid.uuid4()


def request(visitor: str, show: uuid.UUID = SHOW) -> LockRequest:
    return LockRequest(show, ["A1"], visitor, uuid.uuid4(), 60, "", 0, "")


def locked(visitor: str) -> LockResult:
    return LockResult("LOCKED", [(visitor, 0)], datetime.now(UTC), 0, 4, "INR")  # type: ignore[list-item]


class FakeDatabase:
    """Answers each request LOCKED with its visitor as the seat; records every call."""

    def __init__(self, fail_batches: Exception | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_batches = fail_batches
        self.gate = asyncio.Event()
        self.gate.set()

    async def one(self, r: LockRequest) -> LockResult:
        self.calls.append([r.visitor_id])
        await asyncio.sleep(0)
        await self.gate.wait()
        if r.visitor_id == "bad":
            raise ValueError("bad request")
        return locked(r.visitor_id)

    async def many(self, requests: list[LockRequest]) -> list[LockResult]:
        self.calls.append([r.visitor_id for r in requests])
        await asyncio.sleep(0)
        if self.fail_batches is not None:
            raise self.fail_batches
        return [locked(r.visitor_id) for r in requests]


def coalescer(db: FakeDatabase, max_batch: int = 32) -> LockCoalescer:
    return LockCoalescer(db.one, db.many, max_batch=max_batch,
                         retry_alone=lambda exc: isinstance(exc, KeyError))


async def test_a_lone_request_goes_at_once_as_a_single_call() -> None:
    """With nothing in flight a request is sent alone, and answered."""
    db = FakeDatabase()
    result = await coalescer(db).lock(request("v1"))
    assert result.seats[0][0] == "v1"
    assert db.calls == [["v1"]]


async def test_requests_arriving_during_a_call_go_as_one_batch_in_arrival_order() -> None:
    """The first of concurrent requests goes alone; the others wait for it and then go
    together, in the order they came; each caller gets its own answer."""
    db = FakeDatabase()
    batches = coalescer(db)
    results = await asyncio.gather(*(batches.lock(request(f"v{i}")) for i in range(5)))
    assert [r.seats[0][0] for r in results] == [f"v{i}" for i in range(5)]
    assert db.calls == [["v0"], ["v1", "v2", "v3", "v4"]]
    assert (batches.stats.batch_calls, batches.stats.largest_batch) == (1, 4)


async def test_a_batch_holds_at_most_max_batch_requests() -> None:
    """Queued requests beyond the largest batch go in the batch after."""
    db = FakeDatabase()
    batches = coalescer(db, max_batch=3)
    await asyncio.gather(*(batches.lock(request(f"v{i}")) for i in range(8)))
    assert db.calls == [["v0"], ["v1", "v2", "v3"], ["v4", "v5", "v6"], ["v7"]]


async def test_shows_are_batched_apart() -> None:
    """Requests for two shows never share a call, and one show's call does not hold up the
    other's."""
    db = FakeDatabase()
    batches = coalescer(db)
    other = uuid.uuid4()
    await asyncio.gather(*(batches.lock(request(f"v{i}", SHOW if i % 2 else other))
                           for i in range(6)))
    assert sorted(db.calls) == sorted([["v0"], ["v1"], ["v2", "v4"], ["v3", "v5"]])


async def test_a_caller_that_stops_waiting_is_dropped_and_the_others_are_answered() -> None:
    """A queued request whose caller was cancelled is never sent; the rest of its batch is."""
    db = FakeDatabase()
    db.gate.clear()
    batches = coalescer(db)
    first = asyncio.create_task(batches.lock(request("v0")))
    queued = [asyncio.create_task(batches.lock(request(f"v{i}"))) for i in range(1, 4)]
    await asyncio.sleep(0.01)
    queued[1].cancel()
    db.gate.set()
    assert (await first).seats[0][0] == "v0"
    assert [(await queued[i]).seats[0][0] for i in (0, 2)] == ["v1", "v3"]
    assert db.calls == [["v0"], ["v1", "v3"]]


async def test_a_cancelled_first_caller_still_hands_the_queue_on() -> None:
    """Cancelling the request in flight does not strand the requests waiting behind it."""
    db = FakeDatabase()
    db.gate.clear()
    batches = coalescer(db)
    first = asyncio.create_task(batches.lock(request("v0")))
    queued = [asyncio.create_task(batches.lock(request(f"v{i}"))) for i in range(1, 3)]
    await asyncio.sleep(0.01)
    first.cancel()
    db.gate.set()
    assert [(await q).seats[0][0] for q in queued] == ["v1", "v2"]
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_batch_error_to_retry_falls_back_to_single_calls() -> None:
    """A batch failing with an error to retry is sent again one request at a time: each
    request gets its own answer or its own error."""
    db = FakeDatabase(fail_batches=KeyError("statement error"))
    batches = coalescer(db)
    results = await asyncio.gather(*(batches.lock(request(v)) for v in ("v0", "v1", "bad", "v3")),
                                   return_exceptions=True)
    assert [r.seats[0][0] if isinstance(r, LockResult) else type(r) for r in results] == [
        "v0", "v1", ValueError, "v3"]
    assert db.calls == [["v0"], ["v1", "bad", "v3"], ["v1"], ["bad"], ["v3"]]
    assert batches.stats.fallbacks == 1


async def test_a_batch_error_not_to_retry_fails_every_request_of_the_batch() -> None:
    """An outage fails each request of the batch with that error, and nothing is resent."""
    outage = ConnectionError("down")
    db = FakeDatabase(fail_batches=outage)
    batches = coalescer(db)
    results = await asyncio.gather(*(batches.lock(request(f"v{i}")) for i in range(4)),
                                   return_exceptions=True)
    assert isinstance(results[0], LockResult)
    assert results[1:] == [outage] * 3
    assert db.calls == [["v0"], ["v1", "v2", "v3"]]


async def test_the_coalescer_forgets_a_show_once_its_queue_is_empty() -> None:
    """After the last call returns nothing of the show is kept, and the next request goes
    alone again."""
    db = FakeDatabase()
    batches = coalescer(db)
    await asyncio.gather(*(batches.lock(request(f"v{i}")) for i in range(3)))
    await asyncio.sleep(0)
    assert not batches._queues
    await batches.lock(request("later"))
    assert db.calls[-1] == ["later"]
    assert not batches._in_flight


async def test_with_two_lanes_two_calls_fly_before_requests_queue() -> None:
    """With two lanes the first two requests go alone at once; the rest queue and are shared
    out as batches when a lane comes free."""
    db = FakeDatabase()
    batches = LockCoalescer(db.one, db.many, max_batch=3, retry_alone=lambda _: False, lanes=2)
    results = await asyncio.gather(*(batches.lock(request(f"v{i}")) for i in range(8)))
    assert [r.seats[0][0] for r in results] == [f"v{i}" for i in range(8)]
    assert db.calls == [["v0"], ["v1"], ["v2", "v3", "v4"], ["v5", "v6", "v7"]]
    assert not batches._queues
    assert not batches._in_flight


def test_a_batch_of_one_is_refused() -> None:
    """max_batch below 2 is a mistake of the caller: the repository makes no coalescer then."""
    with pytest.raises(ValueError, match="at least 2"):
        coalescer(FakeDatabase(), max_batch=1)
