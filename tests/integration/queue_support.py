"""Helpers of the waiting-room tests: rooms set up through the operator API, ticks driven by
hand, apps with settings of their own, a clock tests move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from admitone.admission.lease import SchedulerLease
from admitone.admission.scheduler import AdmissionScheduler
from admitone.admission.services import AdmissionServices
from admitone.gateway.app import create_app
from admitone.queue.models import TickResult
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
                  holder: str | None = None) -> AdmissionScheduler:
    """A scheduler of its own (own lease holder) on the suite's services."""
    admission = admission_of(services)
    return AdmissionScheduler(
        admission.store, admission.settings,
        SchedulerLease(admission.store, lease_seconds, holder), tick_seconds=tick_seconds,
        draws=admission.draws, inventory=admission.scheduler.inventory,
    )


async def tick(services: Services, show_id: str) -> TickResult:
    """One admission tick of one room, as the scheduler would do it now."""
    scheduler = scheduler_for(services, holder="tests-tick")  # one holder: it keeps the lease
    await scheduler.refresh()
    results = await scheduler.step()
    return results[show_id]


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

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, seconds: float) -> int:
        self.now_ms += int(seconds * 1000)
        return self.now_ms
