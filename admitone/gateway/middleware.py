"""Plain ASGI middleware: a request id (and the show, when the route names one) on every log
line, and the request id on every response; bad bytes refused before any handler."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

import msgspec
import structlog
from litestar.exceptions import ValidationException
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from admitone.gateway import metrics

_VALID_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(scope: Scope) -> bytes:
    """The request's id: the caller's ``X-Request-ID`` if sane, else a new one."""
    incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
    # 128 random bits, as a uuid4 has, at a third of its cost on the hot path.
    return incoming if _VALID_ID.match(incoming) else os.urandom(16).hex().encode()


def _bind_request_id(scope: Scope) -> bytes:
    """The request's id (:func:`request_id_of`), bound for logging with the route's show, if
    it names one."""
    request_id = request_id_of(scope)
    structlog.contextvars.clear_contextvars()
    # Litestar runs app middleware after routing (and the fast lanes set the path parameters
    # before it): a route with a show names it once here, cut as any id in a log line is.
    show_id = scope.get("path_params", {}).get("show_id")
    if show_id:
        structlog.contextvars.bind_contextvars(
            request_id=request_id.decode(), show_id=str(show_id)[:64]
        )
    else:
        structlog.contextvars.bind_contextvars(request_id=request_id.decode())
    return request_id


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Take ``X-Request-ID`` from the caller (if sane) or make one; bind it for logging."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]  # ScopeType is a str enum
            await app(scope, receive, send)
            return
        request_id = _bind_request_id(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


# Bad bytes (README "Limits"). PostgreSQL cannot store U+0000 in text, and msgspec recurses
# per nesting level: both used to reach the store or the decoder and come back as a 503 with a
# traceback. They are refused here, before any handler, as a 400 problem.
MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A JSON string (escapes included) or one bracket: strings are skipped, brackets counted.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]+|\\.)*"|[\[\]{}]', re.DOTALL)


def _too_deep(body: bytes) -> bool:
    """Whether ``body`` nests arrays and objects deeper than :data:`MAX_JSON_DEPTH` (brackets
    inside strings do not count)."""
    depth = 0
    for token in _JSON_TOKEN.finditer(body):
        mark = token.group()
        if mark in {b"[", b"{"}:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif mark in {b"]", b"}"}:
            depth -= 1
    return False


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _json_problem(body: bytes) -> str | None:
    # Cheap C-level counts first: almost every body is shallow and has no NUL.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _too_deep(body):
        return f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    if b"\\u0000" in body or b"\x00" in body:
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return None  # not JSON: the route's own decoding answers 400 for it
        if _has_nul(decoded):
            return "A text field holds a NUL character (U+0000)"
    return None


def _form_problem(body: bytes) -> str | None:
    if b"%00" in body or b"\x00" in body:
        return "A form field holds a NUL character (U+0000)"
    return None


def _url_problem(scope: Scope) -> str | None:
    # Not the path: every id in a path is parsed (a UUID, a known word) before it is used, so
    # one with a NUL names nothing and is a 404 (a friendly page on page routes), as before.
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return "A query parameter holds a NUL character (U+0000)"
    return None


def _content_type(scope: Scope) -> bytes:
    found = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    return found.split(b";", 1)[0].strip().lower()


async def _checked_receive(scope: Scope, receive: Receive, max_body_bytes: int) -> Receive:
    """Raise a 400 for bad bytes in the query or the body; the ``receive`` the app gets (one
    that replays the body read here, when it was read)."""
    problem = _url_problem(scope)
    if problem:
        raise ValidationException(detail=problem)
    if scope.get("method") not in _BODY_METHODS:  # no body to look at: no header scan either
        return receive
    kind = _content_type(scope)
    is_json = kind == b"application/json" or kind.endswith(b"+json")
    is_form = kind == b"application/x-www-form-urlencoded"
    if not (is_json or is_form):
        return receive
    messages: list[ReceiveMessage] = []
    size, more = 0, True
    while more and size <= max_body_bytes:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    if not more and size <= max_body_bytes:  # all of it (a longer one is a 413 anyway)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        problem = _json_problem(body) if is_json else _form_problem(body)
        if problem:
            raise ValidationException(detail=problem)

    async def replay() -> ReceiveMessage:
        return messages.pop(0) if messages else await receive()

    return replay


def bad_bytes_middleware(max_body_bytes: int) -> Callable[[ASGIApp], ASGIApp]:
    """Refuse NUL characters in the query, JSON and form bodies, and JSON nested deeper than
    :data:`MAX_JSON_DEPTH`, with a 400 problem (``VALIDATION_ERROR``)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":  # type: ignore[comparison-overlap]  # a str enum
                await app(scope, receive, send)
                return
            await app(scope, await _checked_receive(scope, receive, max_body_bytes), send)

        return middleware

    return wrap


def gateway_middleware(max_body_bytes: int) -> Callable[[ASGIApp], ASGIApp]:
    """:func:`request_id_middleware`, ``metrics.metrics_middleware`` and
    :func:`bad_bytes_middleware`, in that order, as ONE layer: one function call and one
    ``send`` wrapper per request instead of three of each (the app's middleware; the three
    stay apart for apps that want one of them)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":  # type: ignore[comparison-overlap]  # a str enum
                await app(scope, receive, send)
                return
            request_id = _bind_request_id(scope)
            started = time.perf_counter()
            status = 500

            async def send_noted(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [*message.get("headers", []),
                                          (b"x-request-id", request_id)]
                await send(message)

            try:
                await app(scope, await _checked_receive(scope, receive, max_body_bytes),
                          send_noted)
            finally:
                metrics.note(scope, status, started)

        return middleware

    return wrap
