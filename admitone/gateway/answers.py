"""JSON answers of the hottest routes, encoded by msgspec straight to bytes and sent as two
ASGI messages whose headers are spelled once.

Litestar turns a returned ``Response`` into its ``ASGIResponse`` on every request: it merges the
route's, the response's and the layer's headers and cookies, picks a serializer for the content
type, encodes, and spells every header as bytes again. For the queue's join, status and progress
answers nothing of that varies but the body, so :class:`JsonAnswer` keeps the handlers' return
type (``Response[JoinOut]``: the OpenAPI document is the same) and skips the rest. The bytes on
the wire are those Litestar sent: the same body (msgspec encodes the same struct the same way),
the same headers in the same order (the handler's headers, ``content-type: application/json``,
``content-length``).

Only for routes with no response headers, cookies, background tasks or after-request hooks of
their own (the conversion ignores those); an exception still goes to the app's handlers.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec
from litestar import Response
from litestar.types import ASGIApp, Receive, Scope, Send

T = TypeVar("T")
Headers = tuple[tuple[bytes, bytes], ...]

_encode = msgspec.json.Encoder().encode
_JSON = (b"content-type", b"application/json")


def headers(**values: str) -> Headers:
    """Response headers spelled once: ``cache_control="no-store"`` is ``Cache-Control``."""
    return tuple((name.replace("_", "-").lower().encode(), value.encode())
                 for name, value in values.items())


class Sent:
    """The ASGI app of one answer: the start message, then the whole body. Its headers are
    ``head``, ``content-type: application/json``, ``content-length``, then ``tail``."""

    __slots__ = ("body", "headers", "status", "tail")

    def __init__(self, status: int, head: Headers, body: bytes, tail: Headers = ()) -> None:
        self.status, self.headers, self.body, self.tail = status, head, body, tail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [*self.headers, _JSON,
                                (b"content-length", str(len(self.body)).encode()), *self.tail]})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class JsonAnswer(Response[T], Generic[T]):
    """A 200 (or ``status_code``) JSON answer of ``content`` (a msgspec struct, or the JSON
    bytes themselves) with ``head`` (from :func:`headers`)."""

    def __init__(self, content: T, head: Headers, *, status_code: int = 200) -> None:
        # Response.__init__ is skipped on purpose: Litestar only asks for the ASGI app.
        self.content = content
        self.status_code: int = status_code
        self._head = head

    def to_asgi_response(self, *_args: Any, **_kwargs: Any) -> ASGIApp:  # type: ignore[override]
        content = self.content
        body = content if isinstance(content, bytes) else _encode(content)
        return Sent(self.status_code or 200, self._head, body)
