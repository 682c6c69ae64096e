"""Revocation while Redis is down: read from PostgreSQL (a revoked visitor stays out, an
admitted one keeps booking), refused on writes when neither answers, and booking tokens from
lookup are checked as access tokens are."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest

from admitone.admission.revocation import Revocations
from admitone.admission.rooms import RoomRepository, RoomSettings
from admitone.admission.tokens import AccessTokenClaims
from admitone.errors import DependencyUnavailableError
from admitone.queue.store import QueueStore
from admitone.redis_client import create_redis
from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import confirmed_booking
from tests.integration.queue_support import OPERATOR, app_client


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
async def no_redis(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    async with app_client(make_settings(redis_url=f"redis://127.0.0.1:{_closed_port()}/0")) as pair:
        yield pair


async def _revoke(client: httpx.AsyncClient, show_id: str, visitor: str) -> None:
    response = await client.post(f"/api/v1/admin/shows/{show_id}/visitors/{visitor}/revoke",
                                 headers=OPERATOR)
    assert response.status_code == 204, response.text


async def test_a_revoked_visitor_stays_out_while_redis_is_down(
    client: httpx.AsyncClient, no_redis: tuple[Services, httpx.AsyncClient], make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Redis down: the revocations come from PostgreSQL, so the revoked visitor cannot lock a
    seat (it could, failing open, before), while another admitted fan still can."""
    _, down = no_redis
    show = await make_show()
    revoked = f"v-{uuid.uuid4().hex}"
    await _revoke(client, show.id, revoked)
    refused = await down.post("/api/v1/bookings/lock", headers=bearer(access_token(show.id, revoked)),
                              json={"showId": show.id, "seatIds": ["A1"]})
    assert refused.status_code == 401, refused.text
    assert (await down.get(f"/api/v1/shows/{show.id}/seats",
                           headers=bearer(access_token(show.id, revoked)))).status_code == 401
    kept = await down.post("/api/v1/bookings/lock", headers=bearer(access_token(show.id)),
                           json={"showId": show.id, "seatIds": ["A2"]})
    assert kept.status_code == 200, kept.text


async def test_a_revoked_visitors_booking_token_is_refused(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Lookup's booking token names the booking's show; once the visitor is revoked for that
    show, the token reads and cancels nothing (it did before: booking tokens were never
    checked)."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["B1"])
    found = await client.post("/api/v1/bookings/lookup",
                              json={"reference": booking.reference, "email": booking.email})
    assert found.status_code == 200, found.text
    token = found.json()["bookingToken"]
    assert (await client.get(f"/api/v1/bookings/{booking.id}",
                             headers=bearer(token))).status_code == 200
    await _revoke(client, show.id, booking.visitor)
    read = await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(token))
    assert read.status_code == 401, read.text
    cancel = await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(token))
    assert cancel.status_code == 401, cancel.text
    state = await services.pool.fetchval("SELECT status FROM bookings WHERE id = $1",
                                         uuid.UUID(booking.id))
    assert state == "CONFIRMED"


async def test_a_booking_token_without_its_show_changes_nothing(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A booking token signed before tokens named their show cannot be checked: it may still
    read its booking, but not cancel it."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["B2"])
    old = services.tokens.issue_booking_token(booking_id=booking.id, visitor_id=booking.visitor,
                                              ttl_seconds=60)
    assert (await client.get(f"/api/v1/bookings/{booking.id}",
                             headers=bearer(old))).status_code == 200
    cancel = await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(old))
    assert cancel.status_code == 401, cancel.text


async def test_unknown_revocations_fail_closed_unless_asked_to_fail_open(
    settings: Settings,
) -> None:
    """Neither Redis nor PostgreSQL answers: the default (writes) refuses with a retryable
    DependencyUnavailableError; a read that asks to fail open gets through."""
    redis = create_redis(f"redis://127.0.0.1:{_closed_port()}/0")
    pool = await asyncpg.create_pool(f"postgresql://nobody@127.0.0.1:{_closed_port()}/x",
                                     min_size=0)
    assert pool is not None
    try:
        store = QueueStore(redis, prefix=settings.redis_key_prefix)
        revocations = Revocations(store, RoomSettings(RoomRepository(pool), store))
        claims = AccessTokenClaims(sub="v-1", show_id=str(uuid.uuid4()), jti="j", exp=0, iat=0)
        with pytest.raises(DependencyUnavailableError) as raised:
            await revocations.is_revoked(claims)
        assert raised.value.dependency == "PostgreSQL"
        assert await revocations.is_revoked(claims, fail_open=True) is False
    finally:
        await pool.close()
        await redis.aclose()
