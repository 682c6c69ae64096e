"""One admission scheduler in a process of its own, for the chaos test that SIGKILLs the leader:

    python -m tests.chaos.scheduler_process   (settings from the ADMITONE_* environment)

Only the scheduler runs (no sweeper, outbox or reconciler), as ``admitone jobs`` would run it.
"""

from __future__ import annotations

import asyncio

from admitone.runtime import open_services
from admitone.settings import load_settings


async def main() -> None:
    settings = load_settings()
    async with open_services(settings) as services:
        assert services.admission is not None
        print("ready", services.admission.scheduler.lease.holder, flush=True)  # noqa: T201
        await services.admission.scheduler.run()


if __name__ == "__main__":
    asyncio.run(main())
