"""A booking's checkout, settlement and cancellation reach its few seats and its buyer's few
bookings by their keys, never by reading every seat or every booking of the show (issue 14).

Before, the settlement found a lock's seats by ``lock_id`` and a booking's by ``booking_id``,
which no index of show_seats serves, and a checkout found the buyer's bookings among all the
show's: each order cost more the bigger the hall and the more it had sold. The plans are read
with EXPLAIN ANALYZE (in a transaction rolled back) on a show of 3,000 seats with 30 bookings,
as a generic plan, which is what a statement prepared by asyncpg runs after its fifth call,
and as a custom one; those of the statements inside admitone_settlement_hold through
auto_explain, whose messages the session receives."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from admitone.db.sql import sql_folder
from admitone.runtime import Services
from tests.conftest import MakeShow
from tests.integration.booking_support import BookingFixture, pending_booking

sql = sql_folder("admitone.booking_core")

ROWS, PER_ROW = 30, 100  # 3,000 seats
OTHER_BOOKINGS = 29
# A booking here has two seats; a plan may read a few more rows (a probe that finds none), but
# one that scans the show reads thousands.
MOST_ROWS_READ = 20


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def rows_read(explained: str, relation: str) -> int:
    """Rows of ``relation`` its scans produced or threw away, over all loops of each."""
    [root] = json.loads(explained)
    return plan_rows_read(root["Plan"], relation)


def plan_rows_read(plan: dict[str, Any], relation: str) -> int:
    total = 0
    for node in _nodes(plan):
        if node.get("Relation Name") == relation and "Scan" in node["Node Type"]:
            loops = node.get("Actual Loops", 1)
            total += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                      + node.get("Rows Removed by Index Recheck", 0)) * loops
    return total


class Explainer:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def nested(self, query: str, *params: object) -> list[dict[str, Any]]:
        """The plans of the statements a function call ran (auto_explain, JSON), and the
        call's rows. Inside a transaction: the settings are SET LOCAL."""
        messages: list[str] = []

        def listen(_conn: object, message: Any) -> None:
            messages.append(str(message.message))

        self.conn.add_log_listener(listen)
        try:
            await self.conn.execute("LOAD 'auto_explain'")
            for setting in ("auto_explain.log_min_duration = 0",
                            "auto_explain.log_nested_statements = on",
                            "auto_explain.log_analyze = on", "auto_explain.log_format = json",
                            "client_min_messages = log"):
                await self.conn.execute(f"SET LOCAL {setting}")
            await self.conn.fetch(query, *params)
            await self.conn.execute("SET LOCAL auto_explain.log_min_duration = -1")
            await asyncio.sleep(0.05)  # the listeners are called soon after, not during
        finally:
            self.conn.remove_log_listener(listen)
        return [json.loads(m[m.index("{"):]) for m in messages if "plan:" in m]

    async def read(self, name: str, relation: str, *params: object) -> int:
        explained = await self.conn.fetchval(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {sql(name)}", *params)
        return rows_read(explained, relation)


@contextlib.asynccontextmanager
async def rolled_back(conn: Any, plan_mode: str) -> AsyncIterator[datetime]:
    """A transaction planning every statement in ``plan_mode``, rolled back at the end; the
    database clock at its start."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(f"SET LOCAL plan_cache_mode = {plan_mode}")
        yield await conn.fetchval("SELECT clock_timestamp()")
    finally:
        await transaction.rollback()


@pytest.fixture(params=["force_generic_plan", "force_custom_plan"])
def plan_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _bookings(client: httpx.AsyncClient, make_show: MakeShow,
                    access_token: Callable[..., str]) -> BookingFixture:
    show = await make_show(rows=ROWS, seats_per_row=PER_ROW)
    for n in range(OTHER_BOOKINGS):
        await pending_booking(client, show, access_token, seats=[f"B{n + 1}"],
                              email=f"other-{n}@example.com")
    # A buyer of their own: some facts count the e-mail's bookings of every show.
    return await pending_booking(client, show, access_token, seats=["C7", "C8"],
                                 email=f"buyer-{uuid.uuid4().hex[:12]}@example.com")


async def test_settlement_and_cancellation_probe_the_bookings_seats(
    services: Services, client: httpx.AsyncClient, make_show: MakeShow,
    access_token: Callable[..., str], plan_mode: str,
) -> None:
    booking = await _bookings(client, make_show, access_token)
    show_id, booking_id = uuid.UUID(booking.show.id), uuid.UUID(booking.id)
    async with services.pool.acquire() as conn:
        lock_id, lock_seats = await conn.fetchrow(
            "SELECT l.id, l.seat_ids FROM bookings b JOIN seat_locks l ON l.id = b.lock_id"
            " WHERE b.id = $1", booking_id)
        assert sorted(lock_seats) == ["C7", "C8"]
        explain = Explainer(conn)
        async with rolled_back(conn, plan_mode) as now:
            plans = await explain.nested(sql("settlement_hold"), uuid.UUID(booking.payment_id),
                                         f"plan-test-{uuid.uuid4()}", "SUCCESS", "SANDBOX")
            inner = [p for p in plans if "admitone_settlement_hold" not in p["Query Text"]]
            assert len(inner) >= 5, [p["Query Text"] for p in plans]  # payment ... lock
            read = {"settlement_hold": sum(
                plan_rows_read(p["Plan"], "show_seats") for p in inner)}
            assert sum(plan_rows_read(p["Plan"], "bookings") for p in inner) == 1
            assert sum(plan_rows_read(p["Plan"], "seat_locks") for p in inner) == 1
            await conn.execute(sql("settlement_mark_payment"), uuid.UUID(booking.payment_id),
                               "SUCCESS", None, now)
            read["settlement_confirm"] = await explain.read(
                "settlement_confirm", "show_seats", booking_id, show_id, lock_id, now,
                json.dumps({"bookingId": booking.id}), lock_seats)
            assert await conn.fetchval(
                "SELECT count(*) FROM show_seats WHERE show_id = $1 AND booking_id = $2"
                " AND status = 'BOOKED'", show_id, booking_id) == 2
            read["lock_booked_seats"] = await explain.read(
                "lock_booked_seats", "show_seats", show_id, booking_id)
            read["release_booked_seats"] = await explain.read(
                "release_booked_seats", "show_seats", show_id, booking_id, now)
            assert await conn.fetchval(
                "SELECT count(*) FROM show_seats WHERE show_id = $1 AND seat_id = ANY ($2)"
                " AND status = 'AVAILABLE'", show_id, ["C7", "C8"]) == 2

        async with rolled_back(conn, plan_mode) as now:
            read["settlement_free_seats"] = await explain.read(
                "settlement_free_seats", "show_seats", show_id, lock_id, now, lock_seats)
            assert await conn.fetchval(
                "SELECT count(*) FROM show_seats WHERE show_id = $1 AND lock_id = $2",
                show_id, lock_id) == 0

        async with rolled_back(conn, plan_mode) as now:
            read["settlement_book_seats"] = await explain.read(
                "settlement_book_seats", "show_seats", show_id, lock_id, booking_id, now,
                lock_seats)
            assert await conn.fetchval(
                "SELECT count(*) FROM show_seats WHERE show_id = $1 AND booking_id = $2",
                show_id, booking_id) == 2

    assert max(read.values()) <= MOST_ROWS_READ, read
    # And every statement really found the booking's seats (a plan reading nothing proves
    # nothing): each read at least the two of them.
    assert min(read.values()) >= 2, read


async def test_a_checkout_reads_only_its_buyers_bookings(
    services: Services, client: httpx.AsyncClient, make_show: MakeShow,
    access_token: Callable[..., str], plan_mode: str,
) -> None:
    booking = await _bookings(client, make_show, access_token)
    show_id = uuid.UUID(booking.show.id)
    async with services.pool.acquire() as conn:
        email_key, visitor = await conn.fetchrow(
            "SELECT email_key, visitor_id FROM bookings WHERE id = $1", uuid.UUID(booking.id))
        assert await conn.fetchval(
            "SELECT count(*) FROM bookings WHERE show_id = $1", show_id) == OTHER_BOOKINGS + 1
        async with rolled_back(conn, plan_mode) as now:
            explained = await conn.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {sql('checkout_facts')}", show_id, email_key,
                None, visitor, "m:CARD", now)
            facts = await conn.fetchrow(
                sql("checkout_facts"), show_id, email_key, None, visitor, "m:CARD", now)
    assert facts is not None
    assert facts["by_email"] == 2  # the buyer's two live seats
    # The buyer's one booking (read by each of the statement's few lookups), not the show's
    # 30, and its one lock, not the show's 30.
    assert rows_read(explained, "bookings") <= 8, explained
    assert rows_read(explained, "seat_locks") <= 2, explained
