"""Holds commit asynchronously, sales do not (migration 0027): each hold function turns
synchronous_commit off for its own transaction only, so the next transaction on the same
connection, a checkout or a payment, commits synchronously again."""

from __future__ import annotations

import uuid

import asyncpg

from admitone.runtime import Services
from tests.conftest import MakeShow, expire_lock

LOCK_SQL = "SELECT * FROM admitone_lock_seats($1, $2, $3, $4, 60, '', 0)"


async def _setting(conn: asyncpg.Connection) -> str:
    value: str = await conn.fetchval("SELECT current_setting('synchronous_commit')")
    return value


async def _locked(services: Services, show_id: str, seat: str, visitor: str) -> uuid.UUID:
    lock_id = uuid.uuid4()
    rows = await services.pool.fetch(LOCK_SQL, uuid.UUID(show_id), [seat], visitor, lock_id)
    assert rows[0]["outcome"] == "LOCKED"
    return lock_id


async def test_a_lock_commits_asynchronously_and_only_its_own_transaction(
    services: Services, make_show: MakeShow
) -> None:
    """Inside a lock's transaction synchronous_commit is off; the next transaction has it on."""
    show = await make_show(rows=1, seats_per_row=3)
    async with services.pool.acquire() as conn:
        assert await _setting(conn) == "on"
        async with conn.transaction():
            rows = await conn.fetch(LOCK_SQL, uuid.UUID(show.id), ["A1"], "fan", uuid.uuid4())
            assert rows[0]["outcome"] == "LOCKED"
            assert await _setting(conn) == "off"
        assert await _setting(conn) == "on"
        async with conn.transaction():
            assert await _setting(conn) == "on"


async def test_a_lost_race_still_writes_nothing_and_changes_no_setting(
    services: Services, make_show: MakeShow
) -> None:
    """A lock of a taken seat answers from the plain read: no transaction id, setting untouched."""
    show = await make_show(rows=1, seats_per_row=3)
    await _locked(services, show.id, "A1", "first")
    async with services.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(LOCK_SQL, uuid.UUID(show.id), ["A1"], "second", uuid.uuid4())
        assert [row["outcome"] for row in rows] == ["UNAVAILABLE"]
        assert await conn.fetchval("SELECT pg_current_xact_id_if_assigned()") is None
        assert await _setting(conn) == "on"


async def test_extend_and_release_commit_asynchronously(
    services: Services, make_show: MakeShow
) -> None:
    """Extending and releasing a lock are holds too: each turns the setting off in its own."""
    show = await make_show(rows=1, seats_per_row=3)
    lock_id = await _locked(services, show.id, "A2", "fan")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM admitone_extend_lock($1, 'fan', 120, 600)", lock_id
            )
            assert row is not None
            assert row["outcome"] == "EXTENDED"
            assert await _setting(conn) == "off"
        assert await _setting(conn) == "on"
        async with conn.transaction():
            row = await conn.fetchrow("SELECT * FROM admitone_release_lock($1, 'fan')", lock_id)
            assert row is not None
            assert (row["outcome"], row["seat_ids"]) == ("RELEASED", ["A2"])
            assert await _setting(conn) == "off"
        assert await _setting(conn) == "on"


async def test_the_sweep_commits_asynchronously(
    services: Services, make_show: MakeShow
) -> None:
    """The sweep of expired locks is a hold transaction too; a lost sweep is done again."""
    show = await make_show(rows=1, seats_per_row=3)
    lock_id = await _locked(services, show.id, "A3", "fan")
    await expire_lock(services, str(lock_id))
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            freed = await conn.fetch("SELECT * FROM admitone_sweep_expired_locks(1000)")
            assert (str(show.id), "A3") in {(str(r["show_id"]), r["seat_id"]) for r in freed}
            assert await _setting(conn) == "off"
        assert await _setting(conn) == "on"
