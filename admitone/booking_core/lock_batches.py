"""Concurrent seat locks of one show, gathered into one database call (issue 14).

Natural batching, as group commit does it: while ``lanes`` lock calls of a show are in flight,
the process's next lock requests for that show wait in a queue; when a call returns, what
queued (up to ``max_batch``) goes as that lane's next call, one transaction of
``admitone_lock_seats_batch`` (migration 0028) that decides the requests in arrival order. A
lone request goes at once, as a plain ``admitone_lock_seats`` call: no timer, so no latency is
added when the show is quiet, and batches grow only when requests really wait on each other.

Each request keeps its own answer (a :class:`LockResult`, or its own error). A batch that fails
with an error of a statement (not an outage) is retried as single calls, one per request, so
one bad request cannot fail the others; an outage or a timeout fails every request of the batch
with that error, as it would have failed each single call (``outages.POSTGRES_DOWN``). A caller
that stops waiting (its client went away) loses only its own answer: a request not yet sent is
dropped, one already sent may leave a lock that expires like any other.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from admitone.booking_core.seat_repository import LockResult

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LockRequest:
    """One fan's lock attempt, as ``SeatLockRepository.lock`` takes it."""

    show_id: uuid.UUID
    seat_ids: list[str]
    visitor_id: str
    lock_id: uuid.UUID
    lock_seconds: int
    network: str
    network_max: int
    device: str

    @property
    def batch_key(self) -> tuple[uuid.UUID, int, int]:
        """Requests that may share one call: one show, one lock period, one network cap."""
        return self.show_id, self.lock_seconds, self.network_max


LockOne = Callable[[LockRequest], Awaitable["LockResult"]]
LockMany = Callable[[list[LockRequest]], Awaitable[list["LockResult"]]]
_Waiting = tuple[LockRequest, "asyncio.Future[LockResult]"]


@dataclass(slots=True)
class BatchStats:
    """What the coalescer did, for tests and the benchmark: calls by kind, requests batched."""

    single_calls: int = 0
    batch_calls: int = 0
    batched_requests: int = 0
    fallbacks: int = 0
    largest_batch: int = 0


class LockCoalescer:
    """Sends a process's concurrent lock requests of one show as batches (module docstring).

    ``lock_one`` and ``lock_many`` run one request and a batch; ``retry_alone`` says whether
    a batch's error should be retried as single calls. Errors reach each caller as raised."""

    def __init__(self, lock_one: LockOne, lock_many: LockMany, *, max_batch: int,
                 retry_alone: Callable[[Exception], bool], lanes: int = 1) -> None:
        if max_batch < 2:  # noqa: PLR2004 - a batch of one is no batch
            raise ValueError("max_batch must be at least 2")
        self._lock_one = lock_one
        self._lock_many = lock_many
        self._retry_alone = retry_alone
        self.max_batch = max_batch
        self.lanes = max(1, lanes)  # calls of one show in flight at once before requests queue
        self.stats = BatchStats()
        # batch key -> requests waiting for the next call, and the calls in flight (present
        # while any is).
        self._queues: dict[tuple[uuid.UUID, int, int], deque[_Waiting]] = {}
        self._in_flight: dict[tuple[uuid.UUID, int, int], int] = {}
        self._drainers: set[asyncio.Task[None]] = set()

    async def lock(self, request: LockRequest) -> LockResult:
        key = request.batch_key
        flying = self._in_flight.get(key, 0)
        if flying >= self.lanes:  # every lane of this show is busy: wait for the next batch
            future: asyncio.Future[LockResult] = asyncio.get_running_loop().create_future()
            self._queues[key].append((request, future))
            return await future
        self._in_flight[key] = flying + 1
        self._queues.setdefault(key, deque())
        try:
            self.stats.single_calls += 1
            return await self._lock_one(request)
        finally:
            self._hand_over(key)

    def _hand_over(self, key: tuple[uuid.UUID, int, int]) -> None:
        """A call in flight is done: its lane takes what queued meanwhile, in a task of its own
        (so that no caller's cancellation stops the others' batch), or is freed."""
        if not self._queues[key]:
            self._free_lane(key)
            return
        task = asyncio.create_task(self._drain(key), name=f"lock-batch-{key[0]}")
        self._drainers.add(task)
        task.add_done_callback(self._drainers.discard)

    def _free_lane(self, key: tuple[uuid.UUID, int, int]) -> None:
        flying = self._in_flight[key] - 1
        if flying:
            self._in_flight[key] = flying
        else:
            del self._in_flight[key], self._queues[key]

    async def _drain(self, key: tuple[uuid.UUID, int, int]) -> None:
        queue = self._queues[key]
        batch: list[_Waiting] = []
        try:
            while queue:
                batch = []
                while queue and len(batch) < self.max_batch:
                    waiting = queue.popleft()
                    if not waiting[1].done():  # its caller gave up before it was sent
                        batch.append(waiting)
                if batch:
                    await self._send(batch)
        except BaseException as exc:  # the task was cancelled (shutdown) or a bug: tell all
            for _, future in [*batch, *queue]:
                if not future.done():
                    future.set_exception(exc)
            queue.clear()
            raise
        finally:
            self._free_lane(key)

    async def _send(self, batch: list[_Waiting]) -> None:
        requests = [request for request, _ in batch]
        if len(batch) == 1:
            self.stats.single_calls += 1
            outcomes: list[LockResult | BaseException] = []
            try:
                outcomes.append(await self._lock_one(requests[0]))
            except Exception as exc:  # noqa: BLE001 - handed to its caller
                outcomes.append(exc)
        else:
            outcomes = await self._send_batch(requests)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def _send_batch(self, requests: list[LockRequest]) -> list[LockResult | BaseException]:
        self.stats.batch_calls += 1
        self.stats.batched_requests += len(requests)
        self.stats.largest_batch = max(self.stats.largest_batch, len(requests))
        try:
            return list(await self._lock_many(requests))
        except Exception as exc:  # noqa: BLE001 - handed to the callers, or retried alone
            if not self._retry_alone(exc):
                return [exc] * len(requests)
            self.stats.fallbacks += 1
            log.warning("lock_batch_retried_alone", show_id=str(requests[0].show_id),
                        requests=len(requests), error=type(exc).__name__)
        self.stats.single_calls += len(requests)
        # One after another, in arrival order, as the batch would have decided them: run at
        # once, a later request could take what an earlier one asked for (CI saw a reused lock
        # id won by the second of two).
        outcomes: list[LockResult | BaseException] = []
        for request in requests:
            try:
                outcomes.append(await self._lock_one(request))
            except Exception as exc:  # noqa: BLE001 - handed to its caller
                outcomes.append(exc)
        return outcomes
