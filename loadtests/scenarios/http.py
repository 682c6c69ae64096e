"""One request with the outcome judged by status: ok, expected (409, 429, …) or a failure.

Expected outcomes are answered "success" for the route's own statistics and also reported as a
row of their own (type ``EXPECTED``), so contention and back-pressure are counted, not hidden,
and never mistaken for errors.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from locust import User
from locust.env import Environment

MAX_RETRY_AFTER_SECONDS = 10.0


@dataclass(frozen=True)
class Answer:
    """What a scenario needs of a response."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def retry_after_seconds(self) -> float:
        """``Retry-After`` in seconds (1 when missing or unreadable), at most 10."""
        raw = self.headers.get("retry-after", "")
        try:
            seconds = float(raw)
        except ValueError:
            seconds = 1.0
        return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def record(environment: Environment, kind: str, name: str, elapsed_ms: float = 0.0) -> None:
    """Report a row that is not an HTTP request: an expected outcome or a whole flow's time."""
    environment.events.request.fire(  # type: ignore[no-untyped-call]  # locust's EventHook
        request_type=kind, name=name, response_time=elapsed_ms, response_length=0,
        exception=None, context={},
    )


def call(
    user: User,
    method: str,
    path: str,
    *,
    name: str,
    ok: Collection[int] = (200,),
    expected: Collection[int] = (),
    **kwargs: Any,
) -> Answer:
    """Send one request through the user's client and judge it; never raises for a status."""
    client: Any = user.client  # type: ignore[attr-defined]  # HttpUser/FastHttpUser both have one
    with client.request(method, path, name=name, catch_response=True, **kwargs) as response:
        status = int(response.status_code or 0)
        body: Any = None
        text = response.text or ""
        if text:
            with contextlib.suppress(ValueError):
                body = json.loads(text)
        headers = {key.lower(): value for key, value in (response.headers or {}).items()}
        if status in ok:
            response.success()
        elif status in expected:
            response.success()
            record(user.environment, "EXPECTED", f"{status} {name}")
        else:
            detail = (body.get("error") or body.get("title")) if isinstance(body, dict) else None
            response.failure(f"{status} {detail or text[:120]}")
    return Answer(status, body, headers)
