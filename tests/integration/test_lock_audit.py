"""The lock events of the audit trail (migration 0027): derived from seat_locks by the view
audit_trail instead of written as audit_log rows by every lock and release."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from admitone.runtime import Services
from tests.conftest import MakeShow, expire_lock

LOCK_SQL = "SELECT * FROM admitone_lock_seats($1, $2, $3, $4, 60, '', 0)"
TRAIL_SQL = ("SELECT at, actor, action, data FROM audit_trail"
             " WHERE entity = 'lock' AND entity_id = $1 ORDER BY at, action")


def _data(row: asyncpg.Record) -> dict[str, Any]:
    data = row["data"]
    return data if isinstance(data, dict) else json.loads(data)


async def _lock(services: Services, show_id: str, seats: list[str], visitor: str) -> uuid.UUID:
    lock_id = uuid.uuid4()
    rows = await services.pool.fetch(LOCK_SQL, uuid.UUID(show_id), seats, visitor, lock_id)
    assert {row["outcome"] for row in rows} == {"LOCKED"}
    return lock_id


async def test_a_lock_and_its_release_appear_in_the_trail_without_audit_rows(
    services: Services, make_show: MakeShow
) -> None:
    """LOCKED names visitor, show, seats and the granted expiry (an extension does not move
    it); RELEASED follows at the release; audit_log itself holds no row for either."""
    show = await make_show(rows=1, seats_per_row=4)
    lock_id = await _lock(services, show.id, ["A2", "A1"], "fan")
    granted: datetime = await services.pool.fetchval(
        "SELECT expires_at FROM seat_locks WHERE id = $1", lock_id)
    await services.pool.fetch("SELECT * FROM admitone_extend_lock($1, 'fan', 120, 600)", lock_id)
    await services.pool.fetch("SELECT * FROM admitone_release_lock($1, 'fan')", lock_id)

    trail = await services.pool.fetch(TRAIL_SQL, str(lock_id))
    assert [(row["actor"], row["action"]) for row in trail] == [("fan", "LOCKED"),
                                                                 ("fan", "RELEASED")]
    locked, released = (_data(row) for row in trail)
    assert locked["showId"] == released["showId"] == show.id
    assert locked["seatIds"] == released["seatIds"] == ["A1", "A2"]
    assert datetime.fromisoformat(locked["expiresAt"]) == granted
    assert trail[0]["at"] <= trail[1]["at"]
    assert await services.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'lock' AND entity_id = $1",
        str(lock_id)) == 0


async def test_a_release_that_freed_fewer_seats_writes_its_own_row_once(
    services: Services, make_show: MakeShow
) -> None:
    """When an expired lock lost a seat to another fan, its release says which seats it freed:
    one RELEASED event in the trail, from audit_log, naming only those."""
    show = await make_show(rows=1, seats_per_row=4)
    lock_id = await _lock(services, show.id, ["A1", "A2"], "slow")
    await expire_lock(services, str(lock_id))
    await _lock(services, show.id, ["A2"], "quick")
    await services.pool.fetch("SELECT * FROM admitone_release_lock($1, 'slow')", lock_id)

    trail = await services.pool.fetch(TRAIL_SQL, str(lock_id))
    released = [row for row in trail if row["action"] == "RELEASED"]
    assert len(released) == 1
    assert _data(released[0])["seatIds"] == ["A1"]
