"""Background jobs of one process: the lock sweeper and whatever else is registered.

Each job is a coroutine run every ``interval`` seconds; a failure is logged and the job goes
on at its next tick. All jobs are safe to run in several processes at once (SKIP LOCKED rows,
leases), so each worker may run them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from admitone.runtime import Services

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]


def jobs_for(services: Services) -> list[Job]:
    """Every periodic job this process runs."""
    settings = services.settings
    found = [Job("lock_sweeper", settings.sweep_interval_seconds, services.seats.sweep_expired)]
    found.append(Job("outbox", settings.outbox_interval_seconds, services.outbox.run_once))
    found.append(Job("payment_reconciler", settings.reconcile_interval_seconds,
                     services.reconciler.reconcile_once))
    if services.admission is not None:  # the waiting room: its scheduler loops by itself
        found.append(Job("admission_scheduler", settings.admission_tick_seconds,
                         services.admission.scheduler.run))
        found.append(Job("signing_keys_reload", 10.0, services.admission.reload_signing_keys))
    for extra in services.extras.values():
        more = getattr(extra, "jobs", None)
        if callable(more):
            found.extend(more())
    return found


async def _loop(job: Job) -> None:
    while True:
        try:
            await job.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a job survives its failures
            log.warning("job_failed", job=job.name, error=repr(exc))
        await asyncio.sleep(job.interval_seconds)


@asynccontextmanager
async def running(services: Services) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run every job until the context exits, then cancel them."""
    tasks = [asyncio.create_task(_loop(job), name=job.name) for job in jobs_for(services)]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
