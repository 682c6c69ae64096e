"""Lock batches against real PostgreSQL (migration 0028, booking_core/lock_batches.py): one
transaction decides a batch of lock requests in arrival order, each all or nothing and answered
on its own, with the limits holding inside a batch, and races through batches sell no seat
twice and deadlock nowhere."""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest

from admitone.booking_core.lock_batches import LockRequest
from admitone.booking_core.seat_repository import LockResult, SeatLockRepository, batch_arguments
from admitone.db.sql import sql_folder
from admitone.errors import DependencyUnavailableError
from admitone.gateway.app import create_app
from admitone.runtime import Services, open_services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer

sql = sql_folder("admitone.booking_core")
SINGLE = "SELECT * FROM admitone_lock_seats($1, $2, $3, $4, $5, $6, $7, $8)"


@pytest.fixture(scope="module")
async def batched_services(make_settings: Callable[..., Settings]) -> AsyncIterator[Services]:
    """Services whose lock route batches, whatever ADMITONE_LOCK_BATCH's default is."""
    async with open_services(make_settings(lock_batch=32)) as built:
        yield built


@pytest.fixture(scope="module")
async def batched_client(batched_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(batched_services.settings, services=batched_services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://admitone.test") as http:
        yield http


def ask(show: str, seats: list[str], visitor: str, *, network: str = "", network_max: int = 0,
        device: str = "", lock_id: uuid.UUID | None = None) -> LockRequest:
    return LockRequest(uuid.UUID(show), seats, visitor, lock_id or uuid.uuid4(), 600, network,
                       network_max, device)


def answer(result: LockResult | BaseException) -> tuple[str, list[str]]:
    if isinstance(result, BaseException):
        return type(result).__name__, []
    return result.outcome, sorted(seat for seat, _ in result.seats)


async def deadlocks(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))


async def locked_seats(pool: asyncpg.Pool, show: str) -> dict[str, tuple[str, uuid.UUID]]:
    rows = await pool.fetch("SELECT seat_id, holder, lock_id FROM show_seats"
                            " WHERE show_id = $1 AND status = 'LOCKED'", uuid.UUID(show))
    return {row["seat_id"]: (row["holder"], row["lock_id"]) for row in rows}


async def test_a_batch_takes_the_advisory_locks_its_single_calls_take(
    services: Services, make_show: MakeShow
) -> None:
    """The batch's first step takes exactly the advisory locks (visitor, device, network) that
    admitone_lock_seats takes for the same requests: if the single function's keys change,
    the batch's order no longer covers them and this fails (migration 0028's header)."""
    show = await make_show(rows=1, seats_per_row=6)
    requests = [ask(show.id, ["A1"], "va", network="198.51.100.0", network_max=10, device="d1"),
                ask(show.id, ["A2", "A3"], "vb", network="203.0.113.0", network_max=10),
                ask(show.id, ["A4"], "vc", device="d2", network="203.0.113.0", network_max=10)]
    held = ("SELECT array_agg((classid::bigint << 32) | objid::bigint ORDER BY classid, objid)"
            " FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
    async with services.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        for r in requests:
            await conn.fetch(SINGLE, r.show_id, r.seat_ids, r.visitor_id, r.lock_id,
                             r.lock_seconds, r.network, r.network_max, r.device)
        singles = await conn.fetchval(held)
        await transaction.rollback()
        transaction = conn.transaction()
        await transaction.start()
        rows = await conn.fetch(sql("lock_seats_batch"), *batch_arguments(requests))
        batched = await conn.fetchval(held)
        await transaction.rollback()
    assert {row["outcome"] for row in rows} == {"LOCKED"}
    assert len(singles) == 7  # three visitors, two devices, two networks
    assert batched == singles


async def test_a_batch_decides_each_request_in_arrival_order(
    services: Services, make_show: MakeShow
) -> None:
    """Winners, losers to an earlier lock and to an earlier request of the same batch, unknown
    seats and each limit in one batch: every request gets its own right answer, and only the
    winners hold seats."""
    show = await make_show(rows=2, seats_per_row=10, max_seats_per_visitor=4)
    repository = SeatLockRepository(services.pool)
    before = await repository.lock(uuid.UUID(show.id), ["A1"], "holder", uuid.uuid4(), 600)
    assert before.outcome == "LOCKED"
    net = {"network": "192.0.2.0", "network_max": 3}
    requests = [
        ask(show.id, ["A2", "A3"], "v1", network_max=3),       # wins
        ask(show.id, ["A3"], "v2", network_max=3),             # A3 went to the request before
        ask(show.id, ["A1", "A4"], "v3", network_max=3),       # A1 was locked before the batch
        ask(show.id, ["A5", "Z9"], "v4", network_max=3),       # an unknown seat
        ask(show.id, ["A6", "A7", "A8"], "v1", network_max=3),  # v1 holds 2 of 4 already
        ask(show.id, ["A5"], "v5", network_max=3),             # free: the unknown one took none
        ask(show.id, ["A6", "A7"], "v6", device="d1", network_max=3),
        ask(show.id, ["A8", "A9", "A10"], "v7", device="d1", network_max=3),  # d1 holds 2
        ask(show.id, ["B1", "B2"], "v8", **net),  # type: ignore[arg-type]
        ask(show.id, ["B3", "B4"], "v9", **net),  # type: ignore[arg-type]  # the network's cap
        ask(show.id, ["B3"], "v9", **net),  # type: ignore[arg-type]  # fits under the cap
        ask(show.id, ["B3"], "v10", network_max=3),            # taken by the one before
        ask(show.id, ["A1", "A2"], "v11", network_max=3),  # lost at first sight, A2 since
    ]
    results = await repository.lock_batch(requests)
    assert [answer(r) for r in results] == [
        ("LOCKED", ["A2", "A3"]), ("UNAVAILABLE", ["A3"]), ("UNAVAILABLE", ["A1"]),
        ("UNKNOWN", ["Z9"]), ("LIMIT", []), ("LOCKED", ["A5"]), ("LOCKED", ["A6", "A7"]),
        ("DEVICE_LIMIT", []), ("LOCKED", ["B1", "B2"]), ("NETWORK_LIMIT", []),
        ("LOCKED", ["B3"]), ("UNAVAILABLE", ["B3"]), ("UNAVAILABLE", ["A1", "A2"]),
    ]
    assert [(r.held, r.max_held) for r in (results[4], results[7], results[9])] == [
        (2, 4), (2, 4), (2, 3)]
    assert all(r.expires_at is not None and r.currency == "INR"
               for r in results if r.outcome == "LOCKED")
    seats = await locked_seats(services.pool, show.id)
    winners = {request.lock_id: request.visitor_id
               for request, result in zip(requests, results, strict=True)
               if result.outcome == "LOCKED"}
    assert {seat: holder for seat, (holder, _) in seats.items()} == {
        "A1": "holder", "A2": "v1", "A3": "v1", "A5": "v5", "A6": "v6", "A7": "v6",
        "B1": "v8", "B2": "v8", "B3": "v9"}
    first_lock = seats["A1"][1]
    assert {lock for _, lock in seats.values()} == {*winners, first_lock}
    stored = await services.pool.fetch("SELECT id FROM seat_locks WHERE show_id = $1",
                                       uuid.UUID(show.id))
    assert {row["id"] for row in stored} == {*winners, first_lock}


async def test_a_batch_for_no_show_answers_each_request(services: Services) -> None:
    """A batch for a show that does not exist answers NO_SHOW to every request."""
    show = str(uuid.uuid4())
    results = await SeatLockRepository(services.pool).lock_batch(
        [ask(show, ["A1"], "v1"), ask(show, ["A2"], "v2")])
    assert [r.outcome for r in results] == ["NO_SHOW", "NO_SHOW"]


async def test_a_batch_of_lost_races_takes_no_transaction_id(
    services: Services, make_show: MakeShow
) -> None:
    """A batch whose every request wants a taken seat answers UNAVAILABLE from plain reads:
    no row lock, no transaction id, no WAL, as for a single lost race."""
    show = await make_show(rows=1, seats_per_row=5)
    repository = SeatLockRepository(services.pool)
    await repository.lock(uuid.UUID(show.id), ["A1", "A2"], "holder", uuid.uuid4(), 600)
    requests = [ask(show.id, ["A1"], f"v{i}", device="d", network="n", network_max=5)
                for i in range(4)] + [ask(show.id, ["A2", "A3"], "v9")]
    async with services.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(sql("lock_seats_batch"), *batch_arguments(requests))
        assert await conn.fetchval("SELECT pg_current_xact_id_if_assigned()") is None
        advisory = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype ="
                                       " 'advisory' AND pid = pg_backend_pid()")
    assert advisory == 0
    assert [(row["request_no"], row["outcome"], row["seat_id"]) for row in rows] == [
        (1, "UNAVAILABLE", "A1"), (2, "UNAVAILABLE", "A1"), (3, "UNAVAILABLE", "A1"),
        (4, "UNAVAILABLE", "A1"), (5, "UNAVAILABLE", "A2")]


@pytest.mark.parametrize(
    ("limit", "asks", "refusal"),
    [
        ("visitor", lambda show, i: ask(show, [f"A{i + 1}"], "same"), "LIMIT"),
        ("device", lambda show, i: ask(show, [f"A{i + 1}"], f"v{i}", device="one"),
         "DEVICE_LIMIT"),
        ("network", lambda show, i: ask(show, [f"A{i + 1}"], f"v{i}", network="198.51.100.0",
                                        network_max=4), "NETWORK_LIMIT"),
    ],
)
async def test_limits_hold_for_requests_of_one_batch(
    services: Services, make_show: MakeShow, limit: str,
    asks: Callable[[str, int], LockRequest], refusal: str,
) -> None:
    """Eight concurrent one-seat requests of one visitor (device, network) with a limit of
    four: the first goes alone, the other seven in one batch, and exactly four win."""
    show = await make_show(rows=1, seats_per_row=10, max_seats_per_visitor=4)
    repository = SeatLockRepository(services.pool, lock_batch=16, lock_batch_lanes=1)
    requests = [asks(show.id, i) for i in range(8)]
    results = await asyncio.gather(*(repository.lock(r.show_id, r.seat_ids, r.visitor_id,
                                                     r.lock_id, 600, network=r.network,
                                                     network_max=r.network_max,
                                                     device=r.device) for r in requests))
    assert [r.outcome for r in results] == ["LOCKED"] * 4 + [refusal] * 4, limit
    assert repository.coalescer is not None
    assert repository.coalescer.stats.largest_batch == 7
    assert sorted(await locked_seats(services.pool, show.id)) == ["A1", "A2", "A3", "A4"]


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_hundreds_of_racing_locks_through_batches_and_single_calls(
    services: Services, make_show: MakeShow
) -> None:
    """600 overlapping 1-3 seat locks of 60 visitors on a 20-seat show, from two batching
    "workers" (their own coalescers) and one that does not batch, at once: each seat is locked
    once, each winner holds all its seats, no visitor passes its limit, and no deadlock."""
    show = await make_show(rows=2, seats_per_row=10, max_seats_per_visitor=3)
    workers = [SeatLockRepository(services.pool, lock_batch=32),
               SeatLockRepository(services.pool, lock_batch=8, lock_batch_lanes=1),
               SeatLockRepository(services.pool)]
    rng = random.Random(14)
    requests = []
    for n in range(600):
        row, start = rng.choice("AB"), rng.randint(1, 10)
        seats = [f"{row}{k}" for k in range(start, min(start + rng.randint(1, 3), 11))]
        requests.append((workers[n % 3], ask(show.id, seats, f"v{rng.randrange(60)}")))
    dead = await deadlocks(services.pool)
    results = await asyncio.gather(*(
        worker.lock(r.show_id, r.seat_ids, r.visitor_id, r.lock_id, 600)
        for worker, r in requests))
    outcomes = Counter(r.outcome for r in results)
    assert set(outcomes) <= {"LOCKED", "UNAVAILABLE", "LIMIT"}, outcomes
    won = {r.lock_id: (r.visitor_id, sorted(r.seat_ids))
           for (_, r), result in zip(requests, results, strict=True) if result.outcome == "LOCKED"}
    seats = [seat for _, mine in won.values() for seat in mine]
    assert len(seats) == len(set(seats)), "a seat was locked twice"
    held = await locked_seats(services.pool, show.id)
    assert {seat: lock for seat, (_, lock) in held.items()} == {
        seat: lock for lock, (_, mine) in won.items() for seat in mine}
    per_visitor = Counter(visitor for visitor, _ in held.values())
    assert max(per_visitor.values()) <= 3
    assert await deadlocks(services.pool) == dead
    for worker in workers[:2]:
        assert worker.coalescer is not None
        assert worker.coalescer.stats.batch_calls > 0
        assert worker.coalescer.stats.fallbacks == 0


@pytest.mark.slow
async def test_hundreds_of_racing_http_locks_through_batches(
    batched_client: httpx.AsyncClient, batched_services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """300 fans race for six seats through the lock route with batching on: only 200 and 409,
    each seat won once, the winners' seats are theirs in PostgreSQL, and batches were sent."""
    show = await make_show(rows=1, seats_per_row=6)
    rng = random.Random(300)
    wanted = [[f"A{k}" for k in range(s, min(s + rng.randint(1, 2), 7))]
              for s in (rng.randint(1, 6) for _ in range(300))]

    async def attempt(seats: list[str]) -> httpx.Response:
        return await batched_client.post("/api/v1/bookings/lock",
                                         json={"showId": show.id, "seatIds": seats},
                                         headers=bearer(access_token(show.id)))

    coalescer = batched_services.seats.repository.coalescer
    assert coalescer is not None
    sent = coalescer.stats.batch_calls
    answers = await asyncio.gather(*(attempt(seats) for seats in wanted))
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers if a.status_code not in {200, 409}][:3]
    assert {a.json()["error"] for a in answers if a.status_code == 409} == {"SEAT_UNAVAILABLE"}
    won = {seat["id"]: a.json()["lockId"] for a in answers if a.status_code == 200
           for seat in a.json()["seats"]}
    assert sum(len(a.json()["seats"]) for a in answers if a.status_code == 200) == len(won)
    held = await locked_seats(batched_services.pool, show.id)
    assert {seat: str(lock) for seat, (_, lock) in held.items()} == won
    assert coalescer.stats.batch_calls > sent


async def test_a_failed_batch_is_retried_as_single_calls(
    services: Services, make_show: MakeShow
) -> None:
    """A batch that fails on one request's statement error (here a reused lock id) is rolled
    back and sent again one request at a time: that request gets its own error, the others
    their locks."""
    show = await make_show(rows=1, seats_per_row=6)
    repository = SeatLockRepository(services.pool, lock_batch=8, lock_batch_lanes=1)
    reused = uuid.uuid4()
    requests = [ask(show.id, ["A1"], "v0"), ask(show.id, ["A2"], "v1", lock_id=reused),
                ask(show.id, ["A3"], "v2", lock_id=reused), ask(show.id, ["A4"], "v3")]
    results = await asyncio.gather(
        *(repository.lock(r.show_id, r.seat_ids, r.visitor_id, r.lock_id, 600)
          for r in requests), return_exceptions=True)
    assert [answer(r) for r in results] == [
        ("LOCKED", ["A1"]), ("LOCKED", ["A2"]), ("UniqueViolationError", []),
        ("LOCKED", ["A4"])]
    assert repository.coalescer is not None
    assert repository.coalescer.stats.fallbacks == 1
    assert sorted(await locked_seats(services.pool, show.id)) == ["A1", "A2", "A4"]


async def test_an_outage_fails_every_request_of_a_batch_as_unavailable() -> None:
    """With PostgreSQL unreachable, each request of a batch gets DependencyUnavailableError
    (503 with Retry-After at the route), as single calls do, and nothing is retried."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = await asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{port}/none", min_size=0)
    try:
        repository = SeatLockRepository(dead, lock_batch=8, lock_batch_lanes=1)
        show = str(uuid.uuid4())
        results = await asyncio.gather(
            *(repository.lock(uuid.UUID(show), ["A1"], f"v{i}", uuid.uuid4(), 600)
              for i in range(4)), return_exceptions=True)
    finally:
        await dead.close()
    assert all(isinstance(r, DependencyUnavailableError) for r in results), results
    assert repository.coalescer is not None
    assert (repository.coalescer.stats.batch_calls, repository.coalescer.stats.fallbacks) == (
        1, 0)
