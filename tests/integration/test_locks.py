"""Seat locks over HTTP: all or nothing, conflicts with alternatives, extend, release, expiry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import msgspec

from admitone.booking_core.keys import seat_channel
from admitone.runtime import Services
from tests.conftest import MakeShow, bearer, expire_lock, seat_states

LOCK = "/api/v1/bookings/lock"


async def lock(client: httpx.AsyncClient, token: str, show_id: str, *seats: str) -> httpx.Response:
    return await client.post(
        LOCK, json={"showId": show_id, "seatIds": list(seats)}, headers=bearer(token)
    )


async def test_lock_returns_seats_prices_and_total(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Locking two free seats answers 200 with their prices and the sum."""
    show = await make_show()
    response = await lock(client, access_token(show.id), show.id, "A2", "A1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["id"] for s in body["seats"]] == ["A1", "A2"]
    assert body["totalAmount"] == "400.00"
    assert body["currency"] == "INR"


async def test_seat_prices_follow_the_row_multiplier(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """A premium row's seats cost base price × its multiplier."""
    show = await make_show(row_types={"B": ("PREMIUM", "1.50")})
    body = (await lock(client, access_token(show.id), show.id, "A1", "B1")).json()
    assert {s["id"]: s["price"] for s in body["seats"]} == {"A1": "200.00", "B1": "300.00"}
    assert body["totalAmount"] == "500.00"


async def test_conflict_names_taken_seats_and_suggests_adjacent_ones(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """A 409 lists the taken seats and offers free seats side by side, and changes nothing."""
    show = await make_show()
    assert (await lock(client, access_token(show.id), show.id, "A5")).status_code == 200
    second = await lock(client, access_token(show.id), show.id, "A4", "A5")
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    problem = second.json()
    assert problem["error"] == "SEAT_UNAVAILABLE"
    assert problem["status"] == 409
    assert problem["unavailableSeats"] == ["A5"]
    alternatives = problem["alternativeSeats"]
    assert len(alternatives) == 2
    assert "A5" not in alternatives
    assert alternatives[0][0] == alternatives[1][0]  # one row
    numbers = sorted(int(a[1:]) for a in alternatives)
    assert numbers[1] - numbers[0] == 1  # adjacent
    assert (await seat_states(services, show.id))["A4"] == "AVAILABLE"  # all or nothing


async def test_racing_losers_are_offered_different_seats_that_are_really_free(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """Twelve fans lose the same seat at once while other seats of the row were just taken:
    every alternative offered is free in PostgreSQL, and no two losers are offered one seat
    while others are free (the herding of one shared, second-old snapshot)."""
    show = await make_show(rows=2, seats_per_row=20)
    assert (await lock(client, access_token(show.id), show.id, "A10")).status_code == 200
    for seat in ("A9", "A11", "A8", "A12"):
        assert (await lock(client, access_token(show.id), show.id, seat)).status_code == 200
    losers = await asyncio.gather(
        *(lock(client, access_token(show.id), show.id, "A10") for _ in range(12))
    )
    assert {answer.status_code for answer in losers} == {409}
    offered = [answer.json()["alternativeSeats"] for answer in losers]
    flat = [seat for offer in offered for seat in offer]
    assert all(len(offer) == 1 for offer in offered)
    assert len(flat) == len(set(flat)), offered
    states = await seat_states(services, show.id)
    assert all(states[seat] == "AVAILABLE" for seat in flat), flat


async def test_a_lost_race_takes_no_row_lock_and_writes_nothing(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """A lock of a taken seat answers UNAVAILABLE without a transaction id: no row lock, no WAL,
    no commit flush; an unknown seat beside a taken one is still UNKNOWN (422 before 409)."""
    show = await make_show(rows=1, seats_per_row=5)
    assert (await lock(client, access_token(show.id), show.id, "A1")).status_code == 200
    async with services.pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT * FROM admitone_lock_seats($1, $2, 'loser', $3, 60, '', 0)",
            uuid.UUID(show.id), ["A1", "A2"], uuid.uuid4(),
        )
        assert [(row["outcome"], row["seat_id"]) for row in rows] == [("UNAVAILABLE", "A1")]
        assert await conn.fetchval("SELECT pg_current_xact_id_if_assigned()") is None
    mixed = await lock(client, access_token(show.id), show.id, "A1", "Z9")
    assert mixed.status_code == 422
    assert mixed.json()["unknownSeats"] == ["Z9"]


async def test_unknown_seat_is_rejected_and_nothing_locked(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """A seat that does not exist in the show fails the whole request with 422 UNKNOWN_SEATS."""
    show = await make_show(rows=1, seats_per_row=5)
    response = await lock(client, access_token(show.id), show.id, "A1", "Z9")
    assert response.status_code == 422
    assert response.json()["error"] == "UNKNOWN_SEATS"
    assert response.json()["unknownSeats"] == ["Z9"]
    assert set((await seat_states(services, show.id)).values()) == {"AVAILABLE"}


async def test_extend_moves_expiry_forward(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """Extending a live lock answers a later expiresAt, and the seats carry it too."""
    show = await make_show()
    token = access_token(show.id)
    body = (await lock(client, token, show.id, "A1")).json()
    await services.pool.execute(  # age the lock by a minute so an extension is visible
        "UPDATE seat_locks SET expires_at = expires_at - interval '60 s' WHERE id = $1;",
        uuid.UUID(body["lockId"]),
    )
    await services.pool.execute(
        "UPDATE show_seats SET locked_until = locked_until - interval '60 s' WHERE lock_id = $1",
        uuid.UUID(body["lockId"]),
    )
    extended = await client.put(f"{LOCK}/{body['lockId']}/extend", headers=bearer(token))
    assert extended.status_code == 200, extended.text
    new_expiry = msgspec.convert(extended.json()["expiresAt"], type=datetime)
    old_expiry = msgspec.convert(body["expiresAt"], type=datetime)
    assert new_expiry > old_expiry - timedelta(seconds=60)
    seat_until = await services.pool.fetchval(
        "SELECT locked_until FROM show_seats WHERE lock_id = $1", uuid.UUID(body["lockId"])
    )
    assert seat_until == new_expiry


async def test_extend_after_expiry_is_gone(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """An expired lock cannot be extended: 410 LOCK_EXPIRED with lockExpiresAt."""
    show = await make_show()
    token = access_token(show.id)
    lock_id = (await lock(client, token, show.id, "A1")).json()["lockId"]
    await expire_lock(services, lock_id)
    response = await client.put(f"{LOCK}/{lock_id}/extend", headers=bearer(token))
    assert response.status_code == 410
    assert response.json()["error"] == "LOCK_EXPIRED"
    assert response.json()["lockExpiresAt"]


async def test_someone_elses_lock_is_not_found(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Another visitor can neither extend nor release a lock: 404, as for an unknown id."""
    show = await make_show()
    lock_id = (await lock(client, access_token(show.id), show.id, "A1")).json()["lockId"]
    thief = access_token(show.id)
    assert (await client.put(f"{LOCK}/{lock_id}/extend", headers=bearer(thief))).status_code == 404
    assert (await client.delete(f"{LOCK}/{lock_id}", headers=bearer(thief))).status_code == 404
    assert (await client.delete(f"{LOCK}/{uuid.uuid4()}", headers=bearer(thief))).status_code == 404
    assert (await client.delete(f"{LOCK}/not-a-uuid", headers=bearer(thief))).status_code == 404


async def test_release_frees_seats_and_is_idempotent(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """Releasing frees the seats for others; releasing again still answers success."""
    show = await make_show()
    token = access_token(show.id)
    lock_id = (await lock(client, token, show.id, "A1", "A2")).json()["lockId"]
    first = await client.delete(f"{LOCK}/{lock_id}", headers=bearer(token))
    assert first.status_code == 200
    assert first.json() == {"success": True}
    assert (await client.delete(f"{LOCK}/{lock_id}", headers=bearer(token))).json() == {
        "success": True
    }
    states = await seat_states(services, show.id)
    assert states["A1"] == states["A2"] == "AVAILABLE"
    assert (await lock(client, access_token(show.id), show.id, "A1", "A2")).status_code == 200


async def test_expired_lock_is_lockable_before_the_sweeper_runs(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """A lock past its time does not hold its seats, sweeper or not (DESIGN invariants)."""
    show = await make_show()
    lock_id = (await lock(client, access_token(show.id), show.id, "A1")).json()["lockId"]
    await expire_lock(services, lock_id)
    taken = await lock(client, access_token(show.id), show.id, "A1")
    assert taken.status_code == 200
    # The first owner's lock is dead: it cannot be extended.
    assert taken.json()["lockId"] != lock_id


async def test_sweeper_frees_expired_seats_and_publishes(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """The sweeper turns expired locks back to AVAILABLE, retires the lock and tells live maps."""
    show = await make_show()
    lock_id = (await lock(client, access_token(show.id), show.id, "A1", "A2")).json()["lockId"]
    await expire_lock(services, lock_id)
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(seat_channel(services.settings.redis_key_prefix, show.id))
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    try:
        assert await services.seats.sweep_expired() >= 2
        message = None
        for _ in range(20):  # the lock's own SEAT_LOCKED may arrive first
            candidate = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if candidate and msgspec.json.decode(candidate["data"])["type"] == "SEAT_RELEASED":
                message = candidate
                break
    finally:
        await pubsub.aclose()
    assert message is not None
    event = msgspec.json.decode(message["data"])
    assert event["type"] == "SEAT_RELEASED"
    assert sorted(event["seatIds"]) == ["A1", "A2"]
    assert (await seat_states(services, show.id))["A1"] == "AVAILABLE"
    status = await services.pool.fetchval(
        "SELECT status FROM seat_locks WHERE id = $1", uuid.UUID(lock_id)
    )
    assert status == "EXPIRED"


async def test_seat_map_shows_lock_at_once(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """The cached seat map is invalidated by a lock: the next read shows the seat LOCKED."""
    show = await make_show(rows=2, seats_per_row=5)
    token = access_token(show.id)
    before = await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(token))
    assert before.status_code == 200
    body = before.json()
    assert body["layout"] == {"rows": 2, "cols": 5}
    assert {s["status"] for s in body["seats"]} == {"AVAILABLE"}
    assert body["seats"][0] == {
        "id": "A1",
        "row": "A",
        "number": 1,
        "seatType": "REGULAR",
        "status": "AVAILABLE",
        "price": "200.00",
    }
    await lock(client, token, show.id, "A3")
    after = (await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(token))).json()
    assert {s["id"]: s["status"] for s in after["seats"]}["A3"] == "LOCKED"


async def test_visitor_seat_limit(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """A visitor holds at most the show's limit of seats; the next lock is refused with 409."""
    show = await make_show(max_seats_per_visitor=4)
    token = access_token(show.id)
    assert (await lock(client, token, show.id, "A1", "A2", "A3")).status_code == 200
    over = await lock(client, token, show.id, "A4", "A5")
    assert over.status_code == 409
    assert over.json()["error"] == "SEAT_LIMIT_EXCEEDED"
    assert over.json()["limit"] == 4
    assert over.json()["held"] == 3
    assert (await lock(client, token, show.id, "A4")).status_code == 200


async def test_visitor_racing_itself_cannot_pass_the_limit(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """Thirty concurrent one-seat locks by one visitor with a limit of 10 lock exactly 10."""
    show = await make_show(rows=3, seats_per_row=10, max_seats_per_visitor=10)
    visitor = f"v-{uuid.uuid4().hex}"
    token = access_token(show.id, visitor)
    responses = await asyncio.gather(
        *(lock(client, token, show.id, seat) for seat in show.seat_ids)
    )
    assert sorted({r.status_code for r in responses}) == [200, 409]
    assert sum(r.status_code == 200 for r in responses) == 10
    held = await services.pool.fetchval(
        "SELECT count(*) FROM show_seats WHERE show_id = $1 AND holder = $2",
        uuid.UUID(show.id),
        visitor,
    )
    assert held == 10


async def test_past_show_is_not_on_sale(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Seats of a show that has started cannot be locked (409 SHOW_CLOSED)."""
    show = await make_show(starts_in=timedelta(seconds=-60))
    response = await lock(client, access_token(show.id), show.id, "A1")
    assert response.status_code == 409
    assert response.json()["error"] == "SHOW_CLOSED"
