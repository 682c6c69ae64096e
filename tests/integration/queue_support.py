"""Helpers of the waiting-room tests: rooms set up through the operator API, ticks driven by
hand, apps with settings of their own, a clock tests move."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from admitone.admission.lease import SchedulerLease
from admitone.admission.scheduler import AdmissionScheduler
from admitone.admission.services import AdmissionServices
from admitone.gateway.app import create_app
from admitone.queue.models import TickResult
from admitone.queue.store import QueueStore
from admitone.runtime import Services, open_services
from admitone.settings import Settings
from tests.conftest import OPERATOR_TOKEN

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
BASE_ROOM: dict[str, Any] = {
    "enabled": True, "releaseRatePerMinute": 600, "maxActive": 100, "sessionSeconds": 300,
    "queueMode": "FIFO",
}


def admission_of(services: Services) -> AdmissionServices:
    assert services.admission is not None
    return services.admission


async def put_room(client: httpx.AsyncClient, show_id: str, **fields: Any) -> dict[str, Any]:
    """PUT a waiting room (BASE_ROOM with ``fields`` changed) and return it."""
    response = await client.put(f"/api/v1/admin/shows/{show_id}/waiting-room",
                                json={**BASE_ROOM, **fields}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    room: dict[str, Any] = response.json()
    return room


async def patch_room(client: httpx.AsyncClient, show_id: str, **fields: Any) -> dict[str, Any]:
    response = await client.patch(f"/api/v1/admin/shows/{show_id}/waiting-room", json=fields,
                                  headers=OPERATOR)
    assert response.status_code == 200, response.text
    room: dict[str, Any] = response.json()
    return room


async def join(client: httpx.AsyncClient, show_id: str, token: str | None = None,
               **headers: str) -> httpx.Response:
    sent = dict(headers)
    if token:
        sent["X-Queue-Token"] = token
    return await client.post(f"/api/v1/queue/{show_id}/join", headers=sent)


async def status(client: httpx.AsyncClient, show_id: str, token: str,
                 **headers: str) -> httpx.Response:
    return await client.get(f"/api/v1/queue/{show_id}/status",
                            headers={"X-Queue-Token": token, **headers})


def scheduler_for(services: Services, tick_seconds: float = 1.0, lease_seconds: float = 3.0,
                  holder: str | None = None, store: QueueStore | None = None) -> AdmissionScheduler:
    """A scheduler of its own (own lease holder) on the suite's services (or on ``store``)."""
    admission = admission_of(services)
    return AdmissionScheduler(
        store or admission.store, admission.settings,
        SchedulerLease(admission.store, lease_seconds, holder), tick_seconds=tick_seconds,
        draws=admission.draws, inventory=admission.scheduler.inventory,
    )


async def tick(services: Services, show_id: str, clock: Clock | None = None) -> TickResult:
    """One admission tick of one room, as the scheduler would do it now (or at ``clock``'s
    time: a test moves the clock a second instead of sleeping for the bucket to refill)."""
    store = None if clock is None else QueueStore(
        services.redis, prefix=services.settings.redis_key_prefix, clock=clock)
    # One holder for every tick of a test: it keeps the lease.
    scheduler = scheduler_for(services, holder="tests-tick", store=store)
    await scheduler.refresh()
    results = await scheduler.step()
    return results[show_id]


async def admit_one(client: httpx.AsyncClient, services: Services, show_id: str
                    ) -> tuple[str, str]:
    """(queue token, access token) of a fan let in through the queue: it joins, and two ticks
    a second apart on a test clock let it in."""
    queue_token = (await join(client, show_id)).json()["token"]
    clock = Clock.seconds_ago(1.05)
    await tick(services, show_id, clock)
    clock.advance(1.05)
    await tick(services, show_id, clock)
    body = (await status(client, show_id, queue_token)).json()
    assert body["status"] == "ADMITTED", body
    return queue_token, body["accessToken"]


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """An app with settings of its own (and its own services), and a client on it."""
    async with open_services(settings) as services:
        app = create_app(settings, services=services)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://admitone.test") as http:
            yield services, http


class Clock:
    """Unix milliseconds that only move when a test moves them."""

    def __init__(self, start_ms: int = 1_900_000_000_000) -> None:
        self.now_ms = start_ms

    @classmethod
    def seconds_ago(cls, seconds: float) -> Clock:
        """A clock set ``seconds`` before the real time: a test that advances it by as much
        ends at the real time, so what the app stamps with Redis's own clock meanwhile (a
        status call, a token's iat) agrees with what the ticks did."""
        return cls(int((time.time() - seconds) * 1000))

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, seconds: float) -> int:
        self.now_ms += int(seconds * 1000)
        return self.now_ms
