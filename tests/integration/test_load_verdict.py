"""The recording the load-test verdict reads (admission log, join counters, predicted waits),
and the verdict itself (``loadtests/check.py``) on real servers: all zeros for a clean run,
and each invariant line breaks when its invariant does."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from admitone.admission.eta import answered_seconds
from admitone.queue import keys
from admitone.queue.store import QueueStore
from admitone.runtime import Services
from loadtests import check
from tests.conftest import MakeShow
from tests.integration.booking_support import confirmed_booking, pending_booking
from tests.integration.queue_support import Clock, join, put_room


def _lines(lines: list[check.Line]) -> dict[str, check.Line]:
    return {line.check: line for line in lines}


async def _admit_all(services: Services, show_id: str, clock: Clock) -> None:
    store = QueueStore(services.redis, prefix=services.settings.redis_key_prefix, clock=clock)
    fence = await store.hold_lease("tests-verdict", 60_000)
    for _ in range(5):
        clock.advance(1)
        await store.tick(show_id, fence, 1000)


async def test_admission_log_records_each_fan_with_its_predicted_wait(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """A fan's join answer's estimatedWaitSeconds is what the admission log holds for it, with
    its ticket and join time, in ticket order."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=120, maxActive=100)
    answers = [(await join(client, show.id)).json() for _ in range(4)]
    joined_at = int(time.time())
    await _admit_all(services, show.id, Clock(int(time.time() * 1000)))
    ticks = await check.read_log(services.redis, services.settings.redis_key_prefix, show.id)
    fans = [fan for tick in ticks for fan in tick.fans]
    assert [fan.ticket for fan in fans] == [answer["ticketNumber"] for answer in answers]
    # the log keeps the prediction to a tenth of a second; the answer rounds it
    assert [answered_seconds((-1 if fan.eta is None else fan.eta) * 1000) for fan in fans] == [answer["estimatedWaitSeconds"]
                                                      for answer in answers]
    assert all(fan.joined is not None and abs(fan.joined - joined_at) <= 2 for fan in fans)
    assert all(fan.seen == fan.joined and fan.last_eta == fan.eta for fan in fans)
    assert sum(tick.admitted for tick in ticks) == 4
    state = await services.redis.hgetall(keys.state_key(services.settings.redis_key_prefix, show.id))
    assert state[b"joined"] == b"4"
    assert state[b"peak"] == b"4"


async def test_a_clean_room_and_sale_give_a_verdict_of_all_zeros(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], database_url: str, redis_url: str,
) -> None:
    """Fans who joined, one who left, all admitted in order, one confirmed booking: every
    invariant line reads 0."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=120, maxActive=100)
    tokens = [(await join(client, show.id)).json()["token"] for _ in range(3)]
    left = await client.delete(f"/api/v1/queue/{show.id}/leave",
                               headers={"X-Queue-Token": tokens[0]})
    assert left.status_code == 204
    await _admit_all(services, show.id, Clock(int(time.time() * 1000)))
    await confirmed_booking(client, services, show, access_token, ["A1", "A2"])
    lines = await check.collect(database_url, redis_url, show.id, joined_by_client=3)
    assert [line.check for line in lines if line.broken] == []
    by_name = _lines(lines)
    assert by_name["fans lost"].value.startswith("0 ")
    assert "left 1" in by_name["fans lost"].value
    assert by_name["seats sold twice"].value == "0"


async def test_a_fan_missing_from_redis_is_counted_lost(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow, database_url: str,
    redis_url: str,
) -> None:
    """A fan who joined but is neither waiting, admitted, abandoned nor gone by leaving breaks
    the "fans lost" line, and the verdict's exit code says so."""
    show = await make_show()
    await put_room(client, show.id)
    await join(client, show.id)
    await join(client, show.id)
    visitor = await services.redis.zrange(keys.waiting_key(services.settings.redis_key_prefix, show.id), 1, 1)
    await services.redis.zrem(keys.waiting_key(services.settings.redis_key_prefix, show.id), *visitor)
    lines = _lines(await check.collect(database_url, redis_url, show.id))
    assert lines["fans lost"].broken
    assert lines["fans lost"].value.startswith("1 ")


async def test_forged_double_sale_and_stale_lock_break_their_lines(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], database_url: str, redis_url: str,
) -> None:
    """A second CONFIRMED booking of a sold seat (written behind the service's back, without a
    payment) and a lock left a minute past its expiry each break their line."""
    show = await make_show()
    sold = await confirmed_booking(client, services, show, access_token, ["A1"])
    held = await pending_booking(client, show, access_token, ["B1"])
    lock_id = uuid.uuid4()
    async with services.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO seat_locks (id, show_id, visitor_id, seat_ids, status, expires_at)"
            " VALUES ($1, $2, 'forger', ARRAY['A1'], 'CONVERTED', now())",
            lock_id, uuid.UUID(show.id))
        forged = await conn.fetchval(
            "INSERT INTO bookings (reference, show_id, visitor_id, lock_id, email, amount,"
            " currency, status) VALUES ('FORGED1', $1, 'forger', $2, 'f@example.com', 0, 'INR',"
            " 'CONFIRMED') RETURNING id", uuid.UUID(show.id), lock_id)
        await conn.execute(
            "INSERT INTO booking_seats (booking_id, show_id, seat_id, price) VALUES ($1, $2, 'A1', 0)",
            forged, uuid.UUID(show.id))
        await conn.execute(
            "UPDATE seat_locks SET expires_at = now() - interval '1 minute'"
            " WHERE show_id = $1 AND visitor_id = $2", uuid.UUID(show.id), held.visitor)
    try:
        lines = _lines(await check.collect(database_url, redis_url, show.id))
    finally:  # the forgery must not outlive the test: other tests check invariants globally
        async with services.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM booking_seats WHERE booking_id = $1", forged)
            await conn.execute("DELETE FROM bookings WHERE id = $1", forged)
            await conn.execute("DELETE FROM seat_locks WHERE id = $1", lock_id)
            await conn.execute(
                "UPDATE seat_locks SET expires_at = now() + interval '10 minutes'"
                " WHERE show_id = $1 AND visitor_id = $2", uuid.UUID(show.id), held.visitor)
    assert sold.id
    assert lines["seats sold twice"].value == "1"
    assert lines["confirmed bookings without a successful payment"].value == "1"
    assert lines["locks alive past expiry"].broken
    assert not lines["captured payments with neither seats nor a refund"].broken


def _tick(at_s: float, admitted: int, *, bound: str = "R", rate: int = 600,
          waiting: int = 1000) -> check.Tick:
    return check.Tick(at_ms=int(at_s * 1000), phase="OPEN", rate=rate, max_active=10_000,
                      bound=bound, admitted=admitted, abandoned=0, active=0, waiting=waiting)


def test_a_minute_at_the_configured_rate_is_within_one_percent() -> None:
    """61 rate-bound ticks a second apart, 10 fans each at 600/min: one whole minute, on rate."""
    minutes = check.rate_minutes([_tick(second + 0.003 * (second % 3), 10)
                                  for second in range(61)])
    assert len(minutes) == 1
    assert minutes[0].within
    assert abs(minutes[0].per_minute - 600) < 6


def test_a_stalled_scheduler_shows_as_a_minute_below_the_rate() -> None:
    """A 3 s stall with fans waiting loses admissions (the bucket holds two ticks): off by > 1 %."""
    ticks = [_tick(second, 10) for second in range(30)]
    ticks += [_tick(second, 10) for second in range(33, 95)]
    minutes = check.rate_minutes(ticks)
    assert minutes
    assert not minutes[0].within


@pytest.mark.parametrize("breaker", ["C", "E"])
def test_ticks_bounded_by_capacity_or_an_empty_queue_are_not_rate_minutes(breaker: str) -> None:
    """A minute with a tick held back by maxActive (C) or by too few fans (E) is not compared."""
    ticks = [_tick(second, 10, bound=breaker if second == 30 else "R") for second in range(61)]
    assert check.rate_minutes(ticks) == []


def test_fans_admitted_after_a_later_ticket_are_out_of_order() -> None:
    """The log's tickets must rise from tick to tick; each that falls back counts once."""
    first = check.Tick(at_ms=1, phase="OPEN", rate=60, max_active=9, bound="R", admitted=2,
                       abandoned=0, active=2, waiting=5,
                       fans=[check.Admitted("a" * 12, 1, None, None),
                             check.Admitted("b" * 12, 5, None, None)])
    second = check.Tick(at_ms=2, phase="OPEN", rate=60, max_active=9, bound="R", admitted=1,
                        abandoned=0, active=3, waiting=4,
                        fans=[check.Admitted("c" * 12, 3, None, None)])
    assert check.out_of_order([first, second]) == 1
    assert check.out_of_order([first]) == 0
