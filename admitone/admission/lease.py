"""The scheduler lease: exactly one admission scheduler acts at a time.

The holder renews a Redis key with a short TTL while it is alive; when it dies the key expires
and another scheduler takes it within ``ttl_seconds``. Each taking comes with a fencing number
higher than any before, and ``admit.lua`` refuses a tick with a lower number than it has seen,
so a holder that stalled past its lease cannot admit after a successor did.
"""

from __future__ import annotations

import os
import secrets
import socket

from admitone.queue.store import QueueStore


def holder_id() -> str:
    """Who this scheduler is: host, process and a random part (unique per scheduler)."""
    return f"{socket.gethostname()[:32]}/{os.getpid()}/{secrets.token_hex(4)}".replace(":", "_")


class SchedulerLease:
    """This process's claim on the scheduler lease."""

    def __init__(
        self, store: QueueStore, ttl_seconds: float = 3.0, holder: str | None = None
    ) -> None:
        self.store = store
        self.ttl_ms = max(100, int(ttl_seconds * 1000))
        self.holder = holder or holder_id()
        self.fence = 0

    async def hold(self) -> int:
        """Take or renew the lease; the fencing number while this scheduler holds it, else 0."""
        self.fence = await self.store.hold_lease(self.holder, self.ttl_ms)
        return self.fence

    async def release(self) -> None:
        """Give the lease up (on shutdown) so a successor need not wait for it to expire."""
        self.fence = 0
        await self.store.release_lease(self.holder)
