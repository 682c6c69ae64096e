"""The seat selection page and the hold-and-checkout page.

``GET /shows/{showId}/seats`` and ``GET /shows/{showId}/checkout`` are server-rendered shells;
their scripts (``static/js/seatmap.js``, ``static/js/hold.js``) call the booking API with the
access token the queue page keeps in ``sessionStorage``. The catalog and the waiting room's
settings say what the header prints and whether the show has a queue to send a fan back to.

Without JavaScript the same two pages carry ``<noscript>`` forms: the queue page left the
access token in an HttpOnly cookie scoped to the show's pages, "best available N seats" posts
here and locks them, and the checkout form posts the lock on to the payment page.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect

from admitone import errors
from admitone.admission.services import AdmissionServices
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.checkout import CheckoutService
from admitone.booking_core.models import CheckoutIn, LockIn
from admitone.booking_core.seats import SeatService
from admitone.emails import EMAIL_PATTERN
from admitone.gateway import i18n
from admitone.gateway.device import device_cookies, device_id
from admitone.gateway.guards import verified_access
from admitone.gateway.payments.pages import SANDBOX_COOKIE_PATH, SANDBOX_TOKEN_COOKIE
from admitone.gateway.queue.pages import ACCESS_COOKIE
from admitone.gateway.rendering import is_secure, render_page
from admitone.gateway.seats.view import (
    FreeSeat,
    HeldForForm,
    NoScriptView,
    SeatPageShow,
    best_seats,
    build_seat_view,
    held_from,
    held_query,
    held_texts,
)
from admitone.gateway.shows import checkout_path, queue_path, seats_path, show_for_page
from admitone.settings import Settings


async def _page(
    request: Request[Any, Any, Any], show_id: str, template: str, title_key: str,
    path_of: Callable[[str], str], *, catalog: CatalogService, admission: AdmissionServices,
    settings: Settings, status_code: int = 200, **context: Any,
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
    nojs: NoScriptView = context.pop("nojs", None) or NoScriptView(
        counts=tuple(range(1, show.max_seats + 1)), count=min(2, show.max_seats))
    held = nojs.held or held_from(_query(request))
    if held is not None:
        nojs = replace(nojs, held=held, key=nojs.key or secrets.token_urlsafe(16),
                       held_text=held_texts(loc, held, info.timezone))
    context["nojs"] = nojs
    return render_page(request, loc, template, status_code=status_code,
                       page_title=loc.t(title_key, title=view.show_title), view=view,
                       cookies=device_cookies(request), **context)


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


# Without JavaScript -----------------------------------------------------------------------------

_METHODS = ("CARD", "UPI", "NETBANKING", "WALLET")
EMAIL_RE = re.compile(EMAIL_PATTERN)
_LOCK_TRIES = 3  # seats taken between reading the map and locking: choose again, this often
_decode_checkout = msgspec.json.Decoder(dict[str, Any]).decode


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {key: value for key, value in request.query_params.items() if isinstance(value, str)}


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a malformed body is an empty form
        return {}
    return {key: value[:400] for key, value in form.items() if isinstance(value, str)}


async def _access(request: Request[Any, Any, Any], admission: AdmissionServices,
                  show_id: str) -> str | None:
    """The visitor of the access token the queue page left in the show's cookie, or None."""
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return None
    try:
        return (await verified_access(admission, token, show_id)).sub
    except (errors.TokenInvalidError, errors.TokenWrongShowError):
        return None


def _turn_over(loc: i18n.Locale, show_id: str) -> dict[str, Any]:
    return {"message": loc.t("seats.nojs.turn_over"),
            "message_link": (queue_path(show_id), loc.t("seats.token_expired.link"))}


async def _choose_and_lock(seats: SeatService, show_id: str, visitor: str, count: int,
                           device: str) -> Any:
    """Lock the ``count`` best available seats, choosing again when some went meanwhile."""
    taken: set[str] = set()
    for _ in range(_LOCK_TRIES):
        seat_map = await seats.seat_map(show_id)
        rows = {name: index for index, name in enumerate(dict.fromkeys(s.row for s in
                                                                        seat_map.seats))}
        free = [FreeSeat(s.id, rows[s.row], s.number, s.seat_type) for s in seat_map.seats
                if s.status == "AVAILABLE" and s.id not in taken]
        wanted = best_seats(free, count, seat_map.layout.rows, seat_map.layout.cols)
        if len(wanted) < count:
            return None
        try:
            return await seats.lock_seats(visitor, LockIn(show_id=show_id, seat_ids=wanted),
                                          device=device)
        except errors.SeatUnavailableError as exc:
            taken.update(exc.context.get("unavailableSeats", wanted))
    return None


@post("/shows/{show_id:str}/seats/best", include_in_schema=False, status_code=303)
async def best_seats_form(
    request: Request[Any, Any, Any], show_id: str, *, catalog: CatalogService,
    admission: AdmissionServices, settings: Settings, seats: SeatService,
) -> Response[Any]:
    """"Best available N seats" without JavaScript: lock them, then the checkout form."""
    loc = i18n.locale_for(request)

    async def again(status_code: int, **nojs: Any) -> Response[Any]:
        info = await show_for_page(catalog, show_id)
        limit = min((info.max_seats_per_visitor if info else None) or
                    settings.max_seats_per_lock, settings.max_seats_per_lock)
        view = NoScriptView(counts=tuple(range(1, limit + 1)), count=min(2, limit), **nojs)
        return await _page(request, show_id, "seats/page.html", "seats.page_title", seats_path,
                           catalog=catalog, admission=admission, settings=settings,
                           status_code=status_code, nojs=view)

    visitor = await _access(request, admission, show_id)
    if visitor is None:
        return await again(401, **_turn_over(loc, show_id))
    raw = (await _form(request)).get("count", "")
    count = int(raw) if raw.isdigit() else 0
    if not 1 <= count <= settings.max_seats_per_lock:
        return await again(422, message=loc.t("seats.nojs.bad_count"))
    try:
        lock = await _choose_and_lock(seats, show_id, visitor, count, device_id(request))
    except errors.SeatLimitError as exc:
        return await again(409, message=loc.t("seats.problem.limit", limit=exc.context["limit"],
                                               held=exc.context["held"]))
    except errors.ShowClosedError:
        return await again(409, message=loc.t("seats.closed.text"))
    if lock is None:
        return await again(409, message=loc.plural("seats.nojs.not_enough", count))
    held = HeldForForm(lock.lock_id, tuple(s.id for s in lock.seats), lock.total_amount,
                       lock.currency, lock.expires_at)
    return Redirect(f"{checkout_path(show_id)}?{held_query(held)}", status_code=303,
                    headers={"Cache-Control": "no-store"})


@post("/shows/{show_id:str}/checkout", include_in_schema=False, status_code=303)
async def checkout_form(
    request: Request[Any, Any, Any], show_id: str, *, catalog: CatalogService,
    admission: AdmissionServices, settings: Settings, checkout: CheckoutService,
) -> Response[Any]:
    """Pay for a hold without JavaScript: create the booking (once per form, by its key) and
    go on to the payment page."""
    loc = i18n.locale_for(request)
    form = await _form(request)
    held = held_from(form)
    email, method = form.get("email", "").strip(), form.get("paymentMethod", "CARD")
    key = form.get("key", "")[:64] or secrets.token_urlsafe(16)

    async def again(status_code: int, **nojs: Any) -> Response[Any]:
        view = NoScriptView(counts=(), count=0, held=held, key=key, email=email,
                            method=method if method in _METHODS else "CARD", **nojs)
        return await _page(request, show_id, "checkout/page.html", "seats.checkout.page_title",
                           checkout_path, catalog=catalog, admission=admission,
                           settings=settings, status_code=status_code, nojs=view)

    visitor = await _access(request, admission, show_id)
    problem: tuple[int, dict[str, Any]] | None = None
    if visitor is None:
        problem = 401, _turn_over(loc, show_id)
    elif held is None:
        problem = 422, {"message": loc.t("seats.checkout.no_hold.text"), "message_link": (
            seats_path(show_id), loc.t("seats.checkout.pick_seats"))}
    elif not email or not EMAIL_RE.match(email) or method not in _METHODS:
        problem = 422, {"field_error": loc.t(
            "seats.checkout.email_invalid" if email else "seats.checkout.email_missing")}
    if problem is not None or visitor is None or held is None:
        status_code, fields = problem or (422, {})
        return await again(status_code, **fields)
    try:
        stored = await checkout.checkout(visitor, f"form:{key}", msgspec.convert(
            {"lockId": held.lock_id, "paymentMethod": method, "email": email}, CheckoutIn))
    except (errors.LockExpiredError, errors.LockNotFoundError):
        return await again(410, message=loc.t("seats.checkout.expired.text",
                                              seats=", ".join(held.seat_ids)),
                           message_link=(seats_path(show_id), loc.t("seats.checkout.expired.link")))
    except errors.ConflictError:
        return await again(409, message=loc.t("seats.checkout.error.in_progress"))
    except (errors.InvalidRequestError, errors.IdempotencyKeyReusedError,
            msgspec.ValidationError):
        return await again(422, message=loc.t("seats.checkout.error.invalid"))
    answer = _decode_checkout(stored.body)
    url = str(answer["paymentUrl"])
    cookies = []
    if urlsplit(url).path.startswith(SANDBOX_COOKIE_PATH + "/"):
        # The sandbox's page takes the fan's token from a script; without one, from this
        # cookie (HttpOnly, SameSite=Strict: only our own form's post carries it).
        cookies.append(Cookie(
            key=SANDBOX_TOKEN_COOKIE, value=request.cookies.get(ACCESS_COOKIE, ""),
            path=SANDBOX_COOKIE_PATH, httponly=True, samesite="strict",
            secure=is_secure(request), max_age=settings.payment_timeout_seconds))
    return Redirect(url, status_code=303, headers={"Cache-Control": "no-store"},
                    cookies=cookies)


ROUTES = [seats_page, checkout_page, best_seats_form, checkout_form]
