"""The console's JSON: the live view's figures and charts, polled every 2 s by
``static/js/operator.js`` (the same numbers and server-made SVG as the first render)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get

from admitone import errors
from admitone.admission.services import AdmissionServices
from admitone.booking_core.backoffice import BackOffice
from admitone.booking_core.live_stats import LiveStats
from admitone.gateway.operator.access import EXCEPTION_HANDLERS, session_guard
from admitone.gateway.operator.pages import build_live_view


@get("/shows/{show_id:str}/live")
async def live_figures(request: Request[Any, Any, Any], show_id: str, backoffice: BackOffice,
                       admission: AdmissionServices | None,
                       live_stats: LiveStats) -> Response[dict[str, Any]]:
    if admission is None:
        raise errors.QueueUnavailableError
    show = await backoffice.show(show_id)
    live = await build_live_view(request, show.id, admission=admission, backoffice=backoffice,
                                 live_stats=live_stats)
    return Response(live.to_json(), headers={"Cache-Control": "no-store"})


ROUTES = [Router(path="/admin", route_handlers=[live_figures], guards=[session_guard],
                 exception_handlers=EXCEPTION_HANDLERS, include_in_schema=False)]
