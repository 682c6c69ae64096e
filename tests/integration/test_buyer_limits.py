"""Seat limits a scalper cannot mint for free (README "Seat limits"): a new visitor per join
used to buy every seat of a show limited to 2 per visitor. Now the limit is also counted per
normalised e-mail and per payment instrument at checkout, live locks are capped per client
network, and a lock is held at most ``ADMITONE_LOCK_MAX_HOLD_SECONDS``. Races run against the
real PostgreSQL: many checkouts or locks at once never pass the limit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from litestar import Litestar

from admitone.booking_core.models import LockIn
from admitone.booking_core.policy import lock_network
from admitone.booking_core.seats import SeatService
from admitone.errors import NetworkSeatLimitError, SeatLimitError
from admitone.gateway.device import DEVICE_COOKIE
from admitone.runtime import Services
from tests.conftest import MakeShow, bearer, seat_states

LOCK = "/api/v1/bookings/lock"
CHECKOUT = "/api/v1/bookings"


async def lock(client: httpx.AsyncClient, token: str, show_id: str, seats: list[str],
               headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(LOCK, json={"showId": show_id, "seatIds": seats},
                             headers={**bearer(token), **(headers or {})})


async def checkout(client: httpx.AsyncClient, token: str, lock_id: str, email: str,
                   instrument: str | None = None) -> httpx.Response:
    body: dict[str, str] = {"lockId": lock_id, "paymentMethod": "CARD", "email": email}
    if instrument is not None:
        body["paymentInstrument"] = instrument
    return await client.post(CHECKOUT, json=body,
                             headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex})


async def locked(client: httpx.AsyncClient, access_token: Callable[..., str], show_id: str,
                 seats: list[str]) -> tuple[str, str]:
    """A new visitor (a new join) and its lock of ``seats``: (token, lock id)."""
    token = access_token(show_id)
    response = await lock(client, token, show_id, seats)
    assert response.status_code == 200, response.text
    return token, response.json()["lockId"]


async def test_a_new_visitor_per_join_cannot_buy_past_the_limit_with_one_email(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Before: visitor after visitor checked out 2 seats each with one address (201 each)."""
    show = await make_show(1, 8, max_seats_per_visitor=2)
    first = await locked(client, access_token, show.id, ["A1", "A2"])
    assert (await checkout(client, *first, "scalper@example.com")).status_code == 201
    second = await locked(client, access_token, show.id, ["A3", "A4"])
    # The same mailbox, spelled otherwise: case, a +tag.
    refused = await checkout(client, *second, "Scalper+2@Example.COM")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["error"] == "SEAT_LIMIT_EXCEEDED"
    assert (body["limit"], body["held"], body["requested"]) == (2, 2, 2)
    assert body["countedBy"] == "e-mail address"
    # Nothing was created: the lock is still the fan's, no booking for it.
    assert (await checkout(client, *second, "someone.else@example.com")).status_code == 201


async def test_the_limit_counts_a_payment_instrument_across_addresses(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    show = await make_show(1, 8, max_seats_per_visitor=3)
    first = await locked(client, access_token, show.id, ["A1", "A2"])
    assert (await checkout(client, *first, "a@example.com", "fan@okaxis")).status_code == 201
    second = await locked(client, access_token, show.id, ["A3", "A4"])
    refused = await checkout(client, *second, "b@example.com", " FAN@OKAXIS ")
    assert refused.status_code == 409, refused.text
    assert refused.json()["countedBy"] == "payment instrument"
    third = await locked(client, access_token, show.id, ["A5"])
    assert (await checkout(client, *third, "c@example.com", "fan@okaxis")).status_code == 201


async def test_a_failed_or_expired_checkout_frees_the_addresses_seats(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Only live bookings count: a failed payment gives the address its seats back."""
    show = await make_show(1, 8, max_seats_per_visitor=2)
    first = await locked(client, access_token, show.id, ["A1", "A2"])
    made = await checkout(client, *first, "fan@example.com")
    assert made.status_code == 201
    await services.payments.settle(made.json()["paymentId"], "FAILED")
    second = await locked(client, access_token, show.id, ["A3", "A4"])
    assert (await checkout(client, *second, "fan@example.com")).status_code == 201


async def test_many_checkouts_at_once_by_one_email_never_pass_the_limit(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Eight visitors (eight joins), one seat each, all checking out at once with one address
    on a show limited to 2: exactly 2 bookings, whatever the interleaving in PostgreSQL."""
    show = await make_show(1, 8, max_seats_per_visitor=2)
    locks = [await locked(client, access_token, show.id, [seat]) for seat in show.seat_ids]
    answers = await asyncio.gather(
        *(checkout(client, token, lock_id, "one.person@example.com") for token, lock_id in locks)
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201, 201, *[409] * 6], [a.text for a in answers]
    live = await services.pool.fetchval(
        "SELECT count(*) FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id"
        " WHERE b.show_id = $1 AND b.status = 'PENDING'", uuid.UUID(show.id))
    assert live == 2


@pytest.fixture
async def fan_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP from a fan's address on the internet (the suite's client is loopback, which no
    network cap counts: a local proxy or load test is not a network of fans)."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.23", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://admitone.test") as http:
        yield http


def test_loopback_is_no_network_of_fans() -> None:
    assert lock_network("127.0.0.1") == lock_network("::1") == ""
    assert lock_network("::ffff:127.0.0.1") == ""
    assert lock_network("198.51.100.23") == "198.51.100.0/24"


async def test_the_network_cap_stops_one_client_holding_a_whole_show(
    fan_client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """Before: one client held every seat through new visitors. Now live locks from one /24
    hold at most ``ADMITONE_MAX_SEATS_PER_NETWORK`` (40 by default) seats of a show."""
    cap = services.settings.max_seats_per_network
    assert cap == 40
    show = await make_show(5, 10, max_seats_per_visitor=4)
    seats = show.seat_ids
    for start in range(0, cap, 4):
        token = access_token(show.id)
        assert (await lock(fan_client, token, show.id, seats[start:start + 4])).status_code == 200
    refused = await lock(fan_client, access_token(show.id), show.id, [seats[cap]])
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "NETWORK_SEAT_LIMIT"
    assert (refused.json()["limit"], refused.json()["held"]) == (cap, cap)


async def test_many_locks_at_once_from_one_network_never_pass_its_cap(
    services: Services, make_show: MakeShow
) -> None:
    """Thirty new visitors of one /24 locking at once, two seats each, with a cap of 10: the
    network holds exactly 10 seats; another network still locks."""
    show = await make_show(6, 10)
    seats = SeatService(services.seats.repository, services.seat_events, lock_seconds=60,
                        max_seats_per_lock=10, max_seats_per_network=10)
    pairs = [show.seat_ids[i:i + 2] for i in range(0, 60, 2)]

    async def attempt(pair: list[str]) -> bool:
        try:
            await seats.lock_seats(f"v-{uuid.uuid4().hex}", LockIn(show_id=show.id, seat_ids=pair),
                                   "198.51.100.0/24")
        except NetworkSeatLimitError:
            return False
        return True

    results = await asyncio.gather(*(attempt(pair) for pair in pairs))
    assert sum(results) == 5
    held = await services.pool.fetchval(
        "SELECT coalesce(sum(cardinality(seat_ids)), 0) FROM seat_locks"
        " WHERE show_id = $1 AND network = '198.51.100.0/24' AND status = 'ACTIVE'",
        uuid.UUID(show.id))
    assert held == 10
    free = [seat for pair, ok in zip(pairs, results, strict=True) if not ok for seat in pair]
    other = await seats.lock_seats("v-other", LockIn(show_id=show.id, seat_ids=free[:2]),
                                   "203.0.113.0/24")
    assert len(other.seats) == 2


async def test_a_lock_is_held_no_longer_than_the_hold_cap(
    services: Services, make_show: MakeShow
) -> None:
    """Before: a lock could be extended to three lock periods (30 minutes by default). Now it
    lives at most ``lock_hold_seconds`` from its creation, however often it is extended."""
    assert services.settings.lock_hold_seconds == 900
    assert services.seats.max_hold_seconds == 900
    show = await make_show()
    seats = SeatService(services.seats.repository, services.seat_events, lock_seconds=2,
                        max_seats_per_lock=10, max_hold_seconds=3)
    made = await seats.lock_seats("v-hold", LockIn(show_id=show.id, seat_ids=["A1"]))
    created = await services.pool.fetchval(
        "SELECT created_at FROM seat_locks WHERE id = $1", uuid.UUID(made.lock_id))
    await asyncio.sleep(1.5)
    extended = await seats.extend_lock("v-hold", made.lock_id)
    assert extended.expires_at <= created + timedelta(seconds=3)
    assert extended.expires_at > made.expires_at


async def test_joining_a_show_without_a_room_is_rate_limited_per_network(
    fan_client: httpx.AsyncClient, make_show: MakeShow, services: Services
) -> None:
    """Before: every join of a show without a room admitted a new visitor at once, with a
    fresh seat allowance, as fast as a client could ask. Now a network gets
    ``ADMITONE_ROOMLESS_ADMISSION_BURST`` new visitors at once, then
    ``ADMITONE_ROOMLESS_ADMISSIONS_PER_MINUTE``; a fan with its queue token keeps its access."""
    burst = services.settings.roomless_admission_burst
    show = await make_show()
    join = f"/api/v1/queue/{show.id}/join"
    answers = [await fan_client.post(join) for _ in range(burst)]
    assert all(a.status_code == 200 and a.json()["status"] == "ADMITTED" for a in answers)
    refused = await fan_client.post(join)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1
    again = await fan_client.post(join, headers={"X-Queue-Token": answers[0].json()["token"]})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "ADMITTED"
    # Another show's bucket is its own.
    other = await make_show()
    assert (await fan_client.post(f"/api/v1/queue/{other.id}/join")).status_code == 200


async def test_the_buyer_limit_is_the_shows_own_limit(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """A show allowing 12 seats a fan (above the default 10) lets one address book 12."""
    show = await make_show(2, 10, max_seats_per_visitor=12)
    first = await locked(client, access_token, show.id, show.seat_ids[:10])
    assert (await checkout(client, *first, "big.family@example.com")).status_code == 201
    second = await locked(client, access_token, show.id, show.seat_ids[10:12])
    assert (await checkout(client, *second, "big.family@example.com")).status_code == 201
    third = await locked(client, access_token, show.id, show.seat_ids[12:13])
    refused = await checkout(client, *third, "big.family@example.com")
    assert refused.status_code == 409, refused.text
    assert refused.json()["limit"] == 12


async def test_one_browser_joining_again_cannot_hold_past_the_limit(
    app: Litestar, make_show: MakeShow, access_token: Callable[..., str], services: Services,
) -> None:
    """Before: one browser (one cookie jar) joined again as a new visitor per join and locked
    2 seats each time. Now its device cookie (set by the fan's pages) carries the limit, and
    bookings made from its locks count too; another browser is not affected."""
    show = await make_show(2, 8, max_seats_per_visitor=2)
    transport = httpx.ASGITransport(app=app)
    async with (httpx.AsyncClient(transport=transport, base_url="http://admitone.test") as fan,
                httpx.AsyncClient(transport=transport, base_url="http://admitone.test") as other):
        page = await fan.get(f"/shows/{show.id}/seats")
        assert page.status_code == 200
        device = fan.cookies.get(DEVICE_COOKIE)
        assert device is not None
        assert len(device) == 24
        header = page.headers["set-cookie"]
        for part in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=31536000"):
            assert part in header
        assert "Secure" not in header  # plain HTTP here; behind TLS it is Secure:
        behind_tls = await other.get(f"/shows/{show.id}/seats",
                                     headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in behind_tls.headers["set-cookie"]
        other.cookies.clear()
        # The cookie is set once: the next page keeps it.
        again = await fan.get(f"/shows/{show.id}/seats")
        assert DEVICE_COOKIE not in again.headers.get("set-cookie", "")

        token = access_token(show.id)
        first = await lock(fan, token, show.id, ["A1", "A2"])
        assert first.status_code == 200, first.text
        assert (await checkout(fan, token, first.json()["lockId"],
                               "one@example.com")).status_code == 201
        # A new visitor from the same browser: the booked seats still count for the device.
        refused = await lock(fan, access_token(show.id), show.id, ["A3"])
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "SEAT_LIMIT_EXCEEDED"
        assert (body["limit"], body["held"], body["requested"], body["countedBy"]) == (
            2, 2, 1, "device")
        # Nothing was locked for it.
        assert (await seat_states(services, show.id))["A3"] == "AVAILABLE"

        await other.get(f"/shows/{show.id}/queue")
        assert other.cookies.get(DEVICE_COOKIE) not in (None, device)
        assert (await lock(other, access_token(show.id), show.id, ["A3", "A4"])).status_code == 200


async def test_a_device_holds_at_most_the_limit_in_live_locks(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    show = await make_show(1, 8, max_seats_per_visitor=3)
    cookies = {"Cookie": f"{DEVICE_COOKIE}=abcdefghijklmnopqrstuvwx"}
    assert (await lock(client, access_token(show.id), show.id, ["A1", "A2"],
                       cookies)).status_code == 200
    refused = await lock(client, access_token(show.id), show.id, ["A3", "A4"], cookies)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["held"], refused.json()["countedBy"]) == (2, "device")
    assert (await lock(client, access_token(show.id), show.id, ["A3"], cookies)).status_code == 200


@pytest.mark.parametrize("value", ["short", "abcdefghijklmnopqrstuvw!", "a" * 25, ""])
async def test_a_malformed_device_cookie_is_ignored(
    app: Litestar, client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services, value: str,
) -> None:
    """No device limit for it (as without the cookie), nothing stored, and a page replaces it."""
    show = await make_show(1, 8, max_seats_per_visitor=2)
    cookies = {"Cookie": f"{DEVICE_COOKIE}={value}"}
    for seats in (["A1", "A2"], ["A3", "A4"]):
        assert (await lock(client, access_token(show.id), show.id, seats,
                           cookies)).status_code == 200
    assert await services.pool.fetchval(
        "SELECT count(*) FROM seat_locks WHERE show_id = $1 AND device IS NOT NULL",
        uuid.UUID(show.id)) == 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://admitone.test") as browser:
        page = await browser.get(f"/shows/{show.id}/seats", headers=cookies)
        assert f"{DEVICE_COOKIE}=" in page.headers["set-cookie"]
        kept = await browser.get(f"/shows/{show.id}/seats",
                                 headers={"Cookie": f"{DEVICE_COOKIE}={'x' * 24}"})
        assert DEVICE_COOKIE not in kept.headers.get("set-cookie", "")


async def test_many_locks_at_once_from_one_device_never_pass_the_limit(
    services: Services, make_show: MakeShow
) -> None:
    """Thirty new visitors of one device locking one seat each at once, limit 4: the device
    holds exactly 4 seats (the function's advisory lock per show and device)."""
    show = await make_show(3, 10, max_seats_per_visitor=4)
    seats = SeatService(services.seats.repository, services.seat_events, lock_seconds=60,
                        max_seats_per_lock=10)
    device = "D" * 24

    async def attempt(seat: str) -> bool:
        try:
            await seats.lock_seats(f"v-{uuid.uuid4().hex}", LockIn(show_id=show.id, seat_ids=[seat]),
                                   device=device)
        except SeatLimitError:
            return False
        return True

    results = await asyncio.gather(*(attempt(seat) for seat in show.seat_ids[:30]))
    assert sum(results) == 4
    held = await services.pool.fetchval(
        "SELECT coalesce(sum(cardinality(seat_ids)), 0) FROM seat_locks"
        " WHERE show_id = $1 AND device = $2 AND status = 'ACTIVE'", uuid.UUID(show.id), device)
    assert held == 4
