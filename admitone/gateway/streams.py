"""Caps on open Server-Sent Event streams (README "Limits").

A stream holds a connection, a task and a subscription for minutes; without a cap one client
could hold hundreds. Each stream route takes a slot for as long as its response runs: at most
``ADMITONE_STREAMS_PER_CLIENT`` per client IP and ``ADMITONE_STREAMS_PER_PROCESS`` in all, per
process (the counts live in the process: a crashed worker takes its slots with it). Beyond
either, the route answers 503 ``TOO_MANY_STREAMS`` with a Retry-After, before any work, and the
page falls back to polling.
"""

from __future__ import annotations

from collections import Counter

from litestar.types import ASGIApp, Receive, Scope, Send

from admitone.errors import StreamLimitError


class StreamSlots:
    """The open streams of this process, by client IP."""

    def __init__(self, per_client: int, per_process: int) -> None:
        self.per_client = per_client
        self.per_process = per_process
        self.by_client: Counter[str] = Counter()
        self.total = 0

    def take(self, client: str) -> None:
        """Take a slot for ``client``, or raise :class:`StreamLimitError`."""
        if self.total >= self.per_process:
            raise StreamLimitError("This server holds as many live streams as it can")
        if self.by_client[client] >= self.per_client:
            raise StreamLimitError("Too many live streams are open from your address")
        self.by_client[client] += 1
        self.total += 1

    def give_back(self, client: str) -> None:
        self.total -= 1
        self.by_client[client] -= 1
        if self.by_client[client] <= 0:
            del self.by_client[client]


def stream_slot_middleware(app: ASGIApp) -> ASGIApp:
    """Route middleware of the stream routes: a slot while the response runs."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        slots: StreamSlots = scope["litestar_app"].state.stream_slots
        peer = scope.get("client")
        client = peer[0] if peer else "unknown"
        slots.take(client)
        try:
            await app(scope, receive, send)
        finally:
            slots.give_back(client)

    return middleware
