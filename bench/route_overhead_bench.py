"""Per-request cost of the hot routes' plumbing: progress and status through the whole ASGI
app with the waiting room faked (no I/O), so only routing, dependencies and the handler count.

Run: ``PYTHONPATH=. python bench/route_overhead_bench.py`` (CPU time per request, best of 7
rounds of 3000). Compare two trees by pointing PYTHONPATH at each.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from admitone.admission.ratelimit import RateLimiter
from admitone.admission.services import AdmissionServices
from admitone.gateway.app import create_app
from admitone.settings import Settings

ROUNDS = 7
CALLS = 3000


class Rooms:
    """The waiting room's answers, without Redis. ``held`` says whether this process holds
    the second's progress copy (the fast lane sends it without the middleware) or not (the
    lane's whole way: middleware, the handler, ``progress_json``)."""

    held: bytes | None = None

    def fresh_progress(self, show_id: str) -> bytes | None:
        return self.held

    async def progress_json(self, show_id: str) -> bytes:
        return b'{"status":"OPEN"}'

    async def status(
        self, show_id: str, *, binding: str, queue_token: str | None
    ) -> dict[str, str]:
        return {"status": "WAITING"}


async def main() -> None:
    settings = Settings(log_level="error")
    admission = object.__new__(AdmissionServices)
    admission.rooms = Rooms()  # type: ignore[assignment]
    fake: Any = SimpleNamespace(admission=admission, settings=settings,
                                rate_limiter=object.__new__(RateLimiter))
    app = create_app(settings, services=fake)

    async def call(path: str) -> int:
        sent: list[Any] = []
        scope: Any = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "headers": [(b"host", b"t"), (b"user-agent", b"bench")],
            "client": ("127.0.0.1", 1), "server": ("t", 80), "state": {},
        }

        async def receive() -> Any:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return int(sent[0]["status"])

    runs = [("/api/v1/queue/x/progress", b'{"status":"OPEN"}', "held copy"),
            ("/api/v1/queue/x/progress", None, "refilled"),
            ("/api/v1/queue/x/status", None, "")]
    for path, held, note in runs:
        admission.rooms.held = held  # type: ignore[attr-defined]
        if await call(path) != 200:  # the route must answer for the number to mean anything
            raise SystemExit(f"{path} did not answer 200")
        best = []
        for _ in range(ROUNDS):
            started = time.process_time()
            for _ in range(CALLS):
                await call(path)
            best.append((time.process_time() - started) / CALLS * 1e6)
        label = f"{path} ({note})" if note else path
        print(f"{label}: best {min(best):.1f} us/request")


asyncio.run(main())
