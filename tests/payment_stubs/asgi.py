"""A minimal ASGI router for the stubs: method + path pattern → handler(request) → (status, body)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class StubRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        """Stripe's form encoding, flat: ``line_items[0][price_data][unit_amount]`` → value."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass(frozen=True)
class Raw:
    """A non-JSON answer: a page or a script the stub serves to a browser."""

    content_type: str
    text: str


Answer = tuple[int, Any]
Handler = Callable[[StubRequest], Answer]


class Router:
    """Routes, a log of every request, and one lock around the stub's state."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[StubRequest] = []
        self.lock = threading.RLock()

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(f"^{pattern}$"), handler))
            return handler

        return register

    def calls(self, method: str, path_pattern: str) -> list[StubRequest]:
        """Requests received so far with ``method`` on a path matching ``path_pattern``."""
        compiled = re.compile(f"^{path_pattern}$")
        with self.lock:
            return [r for r in self.requests if r.method == method and compiled.match(r.path)]

    def dispatch(self, request: StubRequest) -> Answer:
        with self.lock:
            self.requests.append(request)
            for method, pattern, handler in self.routes:
                match = pattern.match(request.path)
                if method == request.method and match:
                    request.params = match.groupdict()
                    return handler(request)
        return 404, {"error": {"code": "BAD_REQUEST_ERROR", "description": "no such route",
                               "type": "invalid_request_error", "message": "no such route"}}

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = StubRequest(
            method=scope["method"], path=scope["path"],
            query=dict(parse_qsl(scope.get("query_string", b"").decode())),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
        )
        status, payload = self.dispatch(request)
        if isinstance(payload, Raw):
            data, kind = payload.text.encode(), payload.content_type.encode()
        else:
            data, kind = json.dumps(payload).encode(), b"application/json"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind),
                                (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
