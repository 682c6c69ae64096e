"""The queue's fast lanes: a fan's ``join``, ``status`` and ``progress`` dispatched before
Litestar's routing.

These three are what a crowd asks, thousands of times a second; everything else goes through
Litestar as before. Measured in process, Litestar's own part of one of them (routing, the
handler's signature and dependency injection, the response conversion) was about 20 µs, as much
as the handler's work; the lanes skip that part and keep every other:

- ``join`` and ``status`` run the same handler functions (``gateway/queue/api.py``) behind the
  app's own middleware (the trusted-proxy client, the request id and show on every log line,
  the HTTP metrics, the bad-bytes checks), with Litestar's exception layers where Litestar puts
  them: one around the handler (so a problem answer passes the middleware and carries the
  request id and its status in the metrics) and one outside (a refused body, as before). The
  scope carries what Litestar's router sets (the route handler, path parameters and template),
  so an exception handler or a log line cannot tell the lanes from the router.
- ``progress``, when this process already holds the second's copy (the waiting-room service
  computes it at most once a second per show and process), is sent as the whole way sends it:
  status 200, the same headers in the same order (``cache-control``, ``content-type``,
  ``content-length``, ``x-request-id``: the caller's when sane, else a new one) and the request
  counted under the route's template. It needs no middleware: no client address, no body, no
  log line. Without a fresh copy (the first ask of each second, which refills it; an unknown
  room), with a query string (the bad-bytes check reads it), or with the show id spelled in any
  but its canonical form, progress takes the join and status lane.

Anything else goes to Litestar: other methods (405 as before), other paths, a malformed Host
header (the router's 400), a mounted app (``root_path``), and every request until the app's
services are open.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Litestar, Request, Response

# Litestar's own helpers for what its router does before a route (not public API: the locked
# version is in requirements/ci.lock, and tests/integration/test_fast_lanes.py compares every
# answer of the lanes with the router's, so an upgrade that changes them fails there).
from litestar._asgi.utils import is_valid_host, wrap_in_exception_handler
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from admitone.gateway.answers import Sent
from admitone.gateway.deps import queue_route_services
from admitone.gateway.middleware import request_id_of
from admitone.gateway.queue import api as queue_api
from admitone.observability import note_http

PREFIX = "/api/v1/queue/"
Middleware = Callable[[ASGIApp], ASGIApp]
AnswerOf = Callable[[Request[Any, Any, Any], str], Awaitable[Response[Any]]]


def _route_of(app: Litestar, handler: HTTPRouteHandler) -> tuple[HTTPRoute, HTTPRouteHandler]:
    """The app's route of ``handler`` and the handler as the app registered it (a copy)."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for registered in route.route_handlers:
                if registered.fn is handler.fn:
                    return route, registered
    raise LookupError(f"the app has no route of {handler.handler_name}")


class _Lane:
    """One route's lane: its method, template, registered handler and ASGI stack."""

    __slots__ = ("exception_handlers", "handler", "method", "stack", "template")

    def __init__(self, app: Litestar, handler: HTTPRouteHandler,
                 endpoint: ASGIApp, middleware: Sequence[Middleware]) -> None:
        route, self.handler = _route_of(app, handler)
        self.method = next(iter(self.handler.http_methods))
        self.template = route.path_format
        self.exception_handlers = self.handler.resolve_exception_handlers()
        stack = wrap_in_exception_handler(endpoint)  # as Litestar wraps a route with middleware
        for wrap in reversed(middleware):  # the first is the outermost, as in Litestar
            stack = wrap(stack)
        self.stack = wrap_in_exception_handler(stack)  # as Litestar wraps its router


class QueueLanes:
    """The lanes of one app; :meth:`dispatch` says whether it answered the request."""

    def __init__(self, app: Litestar, middleware: Sequence[Middleware]) -> None:
        self._app = app
        self._state = app.state  # its ``services`` are set once the lifespan opens them
        state = self._state
        self._lanes = {
            "join": _Lane(app, queue_api.join, _endpoint(
                lambda request, show: queue_api.join.fn(
                    request, show, queue_route_services(state.services))), middleware),
            "status": _Lane(app, queue_api.status, _endpoint(
                lambda request, show: queue_api.status.fn(
                    request, show, queue_route_services(state.services))), middleware),
            "progress": _Lane(app, queue_api.progress, _endpoint(
                lambda _, show: queue_api.progress.fn(show, state.services.admission)),
                middleware),
        }

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a fan's join, status or progress; False (nothing sent) for anything else."""
        started = time.perf_counter()
        path: str = scope["path"]
        if not path.startswith(PREFIX) or scope.get("root_path"):
            return False
        show, _, tail = path[len(PREFIX):].partition("/")
        lane = self._lanes.get(tail)
        services = self._state.get("services")
        if (lane is None or not show or services is None
                or scope["method"] != lane.method):  # type: ignore[typeddict-item]  # HTTP scope
            return False
        # The router refuses a malformed Host header (400): it still does.
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        if host is not None and not is_valid_host(host):
            return False
        if tail == "progress" and not scope["query_string"]:
            body = services.admission.rooms.fresh_progress(show)
            if body is not None:
                await _send_progress(scope, receive, send, body)
                note_http("GET", lane.template, 200, time.perf_counter() - started)
                return True
        # What Litestar.__call__ and its router put in the scope before a route runs.
        scope["app"] = scope["litestar_app"] = self._app
        scope.setdefault("state", {})
        ScopeState.from_scope(scope).exception_handlers = lane.exception_handlers
        scope["route_handler"] = lane.handler
        scope["path_params"] = {"show_id": show}
        scope["path_template"] = lane.template
        await lane.stack(scope, receive, send)
        return True



def _endpoint(answer_of: AnswerOf) -> ASGIApp:
    """The ASGI app of a lane's route: its handler's answer (``answer_of(request, show_id)``),
    sent as Litestar sends a returned response."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        answer = await answer_of(request, scope["path_params"]["show_id"])
        await answer.to_asgi_response(None, request)(scope, receive, send)

    return endpoint


async def _send_progress(scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
    """The held progress answer: the route's own headers, then the request id (which the
    gateway middleware adds on the whole way)."""
    tail = ((b"x-request-id", request_id_of(scope)),)
    await Sent(200, queue_api.PROGRESS_HEADERS, body, tail)(scope, receive, send)
