"""The seat selection page and the hold-and-checkout page.

``GET /shows/{showId}/seats`` and ``GET /shows/{showId}/checkout`` are server-rendered shells;
their scripts (``static/js/seatmap.js``, ``static/js/hold.js``) call the booking API with the
access token the queue page keeps in ``sessionStorage``. The catalog and the waiting room's
settings say what the header prints and whether the show has a queue to send a fan back to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from litestar.response import Redirect

from admitone.admission.services import AdmissionServices
from admitone.booking_core.catalog import CatalogService
from admitone.gateway import i18n
from admitone.gateway.rendering import render_page
from admitone.gateway.seats.view import SeatPageShow, build_seat_view
from admitone.gateway.shows import checkout_path, seats_path, show_for_page
from admitone.settings import Settings


async def _page(
    request: Request[Any, Any, Any], show_id: str, template: str, title_key: str,
    path_of: Callable[[str], str], *, catalog: CatalogService, admission: AdmissionServices,
    settings: Settings,
) -> Response[Any]:
    loc = i18n.locale_for(request)
    info = await show_for_page(catalog, show_id)
    if info is None:
        return render_page(request, loc, "seats/not_found.html",
                           page_title=loc.t("seats.not_found_title"), status_code=404)
    if info.id != show_id:  # one spelling of the URL: sessionStorage keys use it
        query = f"?{request.url.query}" if request.url.query else ""
        return Redirect(f"{path_of(info.id)}{query}", status_code=301)
    limit = settings.max_seats_per_lock
    show = SeatPageShow(
        info=info, screen=info.screen,
        max_seats=min(info.max_seats_per_visitor or limit, limit),
        # Without a waiting room a fan without a token cannot be sent anywhere to get one.
        has_queue=await admission.settings.queues(info.id),
    )
    view = build_seat_view(loc, show, lock_seconds=settings.lock_seconds)
    return render_page(request, loc, template,
                       page_title=loc.t(title_key, title=view.show_title), view=view)


@get("/shows/{show_id:str}/seats", tags=["pages"], summary="The seat selection page (HTML)",
     media_type="text/html")
async def seats_page(
    request: Request[Any, Any, Any], show_id: str, catalog: CatalogService,
    admission: AdmissionServices, settings: Settings,
) -> Response[Any]:
    """Seat map, legend, selection and "Hold seats"; live while open."""
    return await _page(request, show_id, "seats/page.html", "seats.page_title", seats_path,
                       catalog=catalog, admission=admission, settings=settings)


@get("/shows/{show_id:str}/checkout", tags=["pages"],
     summary="The hold and checkout page (HTML)", media_type="text/html")
async def checkout_page(
    request: Request[Any, Any, Any], show_id: str, catalog: CatalogService,
    admission: AdmissionServices, settings: Settings,
) -> Response[Any]:
    """The held seats with their countdown, payment method, e-mail and "Pay"."""
    return await _page(request, show_id, "checkout/page.html", "seats.checkout.page_title",
                       checkout_path, catalog=catalog, admission=admission,
                       settings=settings)


ROUTES = [seats_page, checkout_page]
