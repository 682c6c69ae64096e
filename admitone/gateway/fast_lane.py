"""The progress fast lane: ``GET /api/v1/queue/{showId}/progress`` answered before routing when
this process already holds a fresh copy of the answer.

Progress is the same for every fan, public for a second, and computed at most once a second per
show and process (``WaitingRoomService.progress_json``). In an on-sale it is also the most asked
route: every waiting page polls it. Once the copy is held, most of what a request costs inside
the app is Litestar's own: routing, dependency injection, the handler's signature, the exception
layer (about two thirds, measured in process). This lane sends the held bytes with what the whole
way sends: status 200, the same headers in the same order (``cache-control``, ``content-type``,
``content-length``, ``x-request-id``: the caller's when sane, else a new one), and the request
counted in the HTTP metrics under the route's own template.

Everything else goes the whole way, and so does progress whenever the lane could differ from it:
no fresh copy (the first ask of each second, which refills the copy; a room never asked for, or
an unknown one), a query string (the bad-bytes check reads it), a show id spelled in any but its
canonical form, a mounted app (``root_path``), a method but GET, the app before its services
are open.
"""

from __future__ import annotations

import time

from litestar import Litestar
from litestar.datastructures import State
from litestar.routes import HTTPRoute
from litestar.types import Scope, Send

from admitone.gateway.answers import headers
from admitone.gateway.middleware import request_id_of
from admitone.gateway.queue import api as queue_api
from admitone.observability import note_http

_PREFIX = "/api/v1/queue/"
_SUFFIX = "/progress"
_HEAD = (*headers(cache_control="public, max-age=1"), (b"content-type", b"application/json"))


def route_template(app: Litestar) -> str:
    """The progress route's template as the HTTP metrics name it (``scope["path_template"]``)."""
    for route in app.routes:
        if isinstance(route, HTTPRoute) and any(
            handler.fn is queue_api.progress.fn for handler in route.route_handlers
        ):
            return route.path_format
    raise LookupError("the app has no progress route")


class ProgressLane:
    """Serves a held progress answer; :meth:`serve` says whether it did."""

    __slots__ = ("_state", "_template")

    def __init__(self, state: State, template: str) -> None:
        self._state = state  # the app's: its ``services`` are set once the lifespan opens them
        self._template = template

    async def serve(self, scope: Scope, send: Send) -> bool:
        """Send the answer of a ``GET …/progress`` whose copy is fresh; False (nothing sent)
        for anything the whole way should answer."""
        started = time.perf_counter()
        path: str = scope["path"]
        if (scope["method"] != "GET"  # type: ignore[typeddict-item]  # an HTTP scope
                or scope["query_string"] or scope.get("root_path")
                or not path.startswith(_PREFIX)):
            return False
        show = path[len(_PREFIX):-len(_SUFFIX)]
        services = self._state.get("services")
        if not show or "/" in show or services is None:
            return False
        body = services.admission.rooms.fresh_progress(show)
        if body is None:
            return False
        await send({"type": "http.response.start", "status": 200, "headers": [
            *_HEAD, (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id_of(scope)),
        ]})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        note_http("GET", self._template, 200, time.perf_counter() - started)
        return True
