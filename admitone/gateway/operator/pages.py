"""The console's pages (README, "Operator console"): sign-in and out, the list of shows,
the live view of a show with its controls, the operator seat map, the funnel and the audit log.

Set-up forms are in ``setup_pages.py``, the live view's 2-second refresh in ``console_api.py``.
Every change posts a form with a single-use form token and asks first: the page's dialog
(``static/js/operator.js``) or, without JavaScript, a confirmation page of the same form.
"""

from __future__ import annotations

import hmac
import zoneinfo
from functools import cache
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from admitone import errors
from admitone.admission.models import RoomStats, WaitingRoomPatch
from admitone.admission.ratelimit import RateLimiter
from admitone.admission.services import AdmissionServices
from admitone.booking_core.backoffice import BackOffice
from admitone.booking_core.live_stats import LiveStats
from admitone.gateway import i18n
from admitone.gateway.client import client_ip
from admitone.gateway.operator import review_pages, setup_pages, view
from admitone.gateway.operator import session as sessions
from admitone.gateway.operator.access import (
    EXCEPTION_HANDLERS,
    actor,
    checked_form,
    current_session,
    render,
    session_guard,
    signed_out_marker,
    text_field,
)
from admitone.gateway.rendering import is_secure
from admitone.settings import Settings

DEFAULT_ZONE = "Asia/Kolkata"
LOGIN_RATE_PER_SECOND, LOGIN_BURST = 0.2, 10  # sign-in attempts: 10 at once, then one per 5 s
CONTROLS = ("rate", "maxActive", "pause", "resume", "end")


@cache
def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _admission(admission: AdmissionServices | None) -> AdmissionServices:
    if admission is None:
        raise errors.QueueUnavailableError
    return admission


async def room_stats(admission: AdmissionServices, show_id: str) -> RoomStats | None:
    """The room's live numbers, or None when the show has no waiting room."""
    try:
        return await admission.rooms.stats(show_id)
    except errors.WaitingRoomNotFoundError:
        return None


async def build_live_view(request: Request[Any, Any, Any], show_id: str, *,
                          admission: AdmissionServices, backoffice: BackOffice,
                          live_stats: LiveStats) -> view.LiveView:
    """The live view's figures. With Redis not answering, the seats and sales (PostgreSQL)
    still show and the page says the crowd figures and charts are paused."""
    degraded = False
    try:
        stats = await room_stats(admission, show_id)
    except (errors.QueueUnavailableError, errors.DependencyUnavailableError):
        stats, degraded = None, True
    try:
        minutes = await live_stats.minutes(show_id)
    except errors.DependencyUnavailableError:
        minutes, degraded = [], True
    return view.live_view(i18n.locale_for(request), stats, await backoffice.sales(show_id),
                          minutes, degraded=degraded)


# Sign-in and out -------------------------------------------------------------------------


def _login_page(request: Request[Any, Any, Any], *, error: str = "", status_code: int = 200
                ) -> Template:
    loc = i18n.locale_for(request)
    return render(request, "login.html", title=loc.t("op.login.title"), error=error,
                  zones=time_zones(), default_zone=DEFAULT_ZONE, status_code=status_code)


@get("/login", opt={"public": True})
async def login_page(request: Request[Any, Any, Any]) -> Template:
    return _login_page(request)


@post("/login", opt={"public": True}, status_code=303)
async def login(request: Request[Any, Any, Any], settings: Settings, rate_limiter: RateLimiter,
                operator_token: str) -> Response[Any]:
    """The operator token in, a session cookie out; a wrong token shows the form again.
    Attempts are limited per client address (``LOGIN_BURST``, then one per 5 s), checked
    before the token is, so guessing from one address is slow whatever the guess."""
    loc = i18n.locale_for(request)
    ip = client_ip(request)
    allowed, _ = await rate_limiter.allows("operator-login", ip, LOGIN_RATE_PER_SECOND,
                                           LOGIN_BURST)
    if not allowed:
        return _login_page(request, error=loc.t("op.login.slow"), status_code=429)
    form = await request.form()
    given = form.get("token")
    if not isinstance(given, str) or not hmac.compare_digest(
        given.strip().encode(), operator_token.encode()
    ):
        return _login_page(request, error=loc.t("op.login.wrong"), status_code=401)
    zone = text_field(form, "timezone", DEFAULT_ZONE)
    found = sessions.new_session(zone if zone in time_zones() else DEFAULT_ZONE)
    cookie = Cookie(key=sessions.SESSION_COOKIE, value=sessions.sign_session(operator_token, found),
                    max_age=sessions.SESSION_SECONDS, path="/admin", httponly=True,
                    samesite="strict", secure=is_secure(request))
    return Redirect("/admin", status_code=303, cookies=[cookie])


@post("/logout", status_code=303)
async def logout(request: Request[Any, Any, Any], backoffice: BackOffice) -> Response[Any]:
    """Sign out: this session's cookie stops working, here and in any copy of it."""
    await checked_form(request)
    await backoffice.spend_form_token(signed_out_marker(current_session(request)))
    gone = Cookie(key=sessions.SESSION_COOKIE, value="", max_age=0, path="/admin",
                  httponly=True, samesite="strict", secure=is_secure(request))
    return Redirect("/admin/login", status_code=303, cookies=[gone])


# The shows -------------------------------------------------------------------------------


@get("/")
async def home(request: Request[Any, Any, Any], backoffice: BackOffice) -> Template:
    loc = i18n.locale_for(request)
    return render(request, "home.html", title=loc.t("op.home.title"),
                  shows=await backoffice.shows())


@get("/shows/{show_id:str}")
async def live_page(request: Request[Any, Any, Any], show_id: str, backoffice: BackOffice,
                    admission: AdmissionServices | None, live_stats: LiveStats) -> Template:
    """The live view: figures, charts and controls; ``operator.js`` refreshes it every 2 s."""
    loc = i18n.locale_for(request)
    show = await backoffice.show(show_id)
    live = await build_live_view(request, show.id, admission=_admission(admission),
                                 backoffice=backoffice, live_stats=live_stats)
    return render(request, "live.html", title=loc.t("op.live.title", title=show.title),
                  show=show, live=live, rate_steps=view.RATE_STEPS,
                  done=request.query_params.get("done", ""))


def _control_patch(control: str, form: Any, stats: RoomStats) -> tuple[WaitingRoomPatch, str, str]:
    """The change a control asks for, and its old and new values as words."""
    if control == "rate":
        step = text_field(form, "step")
        if step:
            rate = view.stepped_rate(stats.release_rate_per_minute, step)
        else:
            rate = int(text_field(form, "releaseRatePerMinute"))
        if not 1 <= rate <= 1_000_000:  # noqa: PLR2004 - the API's bounds (admission/models)
            raise ValueError(rate)
        return (WaitingRoomPatch(release_rate_per_minute=rate),
                str(stats.release_rate_per_minute), str(rate))
    if control == "maxActive":
        cap = int(text_field(form, "maxActive"))
        if not 1 <= cap <= 10_000_000:  # noqa: PLR2004 - the API's bounds
            raise ValueError(cap)
        return WaitingRoomPatch(max_active=cap), str(stats.max_active), str(cap)
    if control in {"pause", "resume"}:
        return (WaitingRoomPatch(paused=control == "pause"), str(stats.paused).lower(),
                str(control == "pause").lower())
    return WaitingRoomPatch(enabled=False), str(stats.enabled).lower(), "false"


@post("/shows/{show_id:str}/controls/{control:str}", status_code=303)
async def control(request: Request[Any, Any, Any], show_id: str, control: str,
                  backoffice: BackOffice, admission: AdmissionServices | None) -> Response[Any]:
    """Rate, maxActive, pause, resume, end the sale: confirmed, applied at once (the room's
    settings are mirrored into Redis, where the next tick reads them), audited."""
    loc = i18n.locale_for(request)
    confirmed = (await request.form()).get("confirmed") == "yes"
    form = await checked_form(request, spend=confirmed)
    rooms = _admission(admission)
    show = await backoffice.show(show_id)
    stats = await room_stats(rooms, show.id)
    if control not in CONTROLS or stats is None:
        raise errors.NotFoundError(f"No control {control[:32]!r} for show {show_id}")
    try:
        patch, old, new = _control_patch(control, form, stats)
    except ValueError:
        return render(request, "message.html", title=loc.t("op.control.bad"), status_code=400,
                      heading=loc.t("op.control.bad"), message=loc.t("op.control.bad_body"),
                      back=f"/admin/shows/{show.id}")
    if not confirmed:
        return render(request, "confirm.html", title=loc.t("op.confirm.title"), show=show,
                      question=loc.t(f"op.confirm.{control}", old=old, new=new),
                      action=f"/admin/shows/{show.id}/controls/{control}",
                      fields={k: v for k, v in form.items() if k in {
                          "releaseRatePerMinute", "maxActive", "step"} and isinstance(v, str)})
    await rooms.settings.patch(show.id, patch, actor(request))
    return Redirect(f"/admin/shows/{show.id}?done={control}", status_code=303)


# The operator seat map ---------------------------------------------------------------------


@get("/shows/{show_id:str}/seats")
async def seat_page(request: Request[Any, Any, Any], show_id: str,
                    backoffice: BackOffice) -> Template:
    loc = i18n.locale_for(request)
    show = await backoffice.show(show_id)
    seats = await backoffice.held_seats(show.id)
    return render(request, "seats.html", title=loc.t("op.seats.title", title=show.title),
                  show=show, rows=view.seat_rows(seats), locks=view.held_locks(seats),
                  done=request.query_params.get("done", ""))


@post("/shows/{show_id:str}/locks/{lock_id:str}/release", status_code=303)
async def release_lock(request: Request[Any, Any, Any], show_id: str, lock_id: str,
                       backoffice: BackOffice) -> Response[Any]:
    """Free a stuck lock (confirmed first, audited with the seats and their holder)."""
    loc = i18n.locale_for(request)
    confirmed = (await request.form()).get("confirmed") == "yes"
    await checked_form(request, spend=confirmed)
    show = await backoffice.show(show_id)
    if not confirmed:
        return render(request, "confirm.html", title=loc.t("op.confirm.title"), show=show,
                      question=loc.t("op.confirm.release", lock=lock_id[:8]),
                      action=f"/admin/shows/{show.id}/locks/{lock_id}/release", fields={})
    try:
        freed = await backoffice.release_lock(show.id, lock_id, actor(request))
    except errors.ConflictError as exc:
        return render(request, "message.html", title=loc.t("op.seats.release_refused"),
                      status_code=409, heading=loc.t("op.seats.release_refused"),
                      message=exc.detail,
                      back=f"/admin/shows/{show.id}/seats")
    return Redirect(f"/admin/shows/{show.id}/seats?done={len(freed)}", status_code=303)


# The funnel and the audit log --------------------------------------------------------------


@get("/shows/{show_id:str}/funnel")
async def funnel_page(request: Request[Any, Any, Any], show_id: str, backoffice: BackOffice,
                      live_stats: LiveStats) -> Template:
    loc = i18n.locale_for(request)
    show = await backoffice.show(show_id)
    steps = view.funnel_steps(loc, await live_stats.funnel(show.id))
    return render(request, "funnel.html", title=loc.t("op.funnel.title", title=show.title),
                  show=show, steps=steps)


@get("/shows/{show_id:str}/funnel.csv")
async def funnel_csv(request: Request[Any, Any, Any], show_id: str, backoffice: BackOffice,
                     live_stats: LiveStats) -> Response[str]:
    show = await backoffice.show(show_id)
    steps = view.funnel_steps(i18n.locale_for(request), await live_stats.funnel(show.id))
    return Response(view.funnel_csv(steps), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="funnel-{show.id}.csv"',
        "Cache-Control": "no-store"})


@get("/audit")
async def audit_page(request: Request[Any, Any, Any], backoffice: BackOffice) -> Template:
    """The operators' changes, newest first; ``?show=`` keeps one show's."""
    loc = i18n.locale_for(request)
    show_id = request.query_params.get("show") or None
    show = await backoffice.show(show_id) if show_id else None
    zone = current_session(request).tz
    rows = view.audit_rows(await backoffice.audit(show.id if show else None), zone)
    return render(request, "audit.html", title=loc.t("op.audit.title"), show=show, rows=rows)


ROUTES = [Router(
    path="/admin",
    route_handlers=[login_page, login, logout, home, live_page, control, seat_page,
                    release_lock, funnel_page, funnel_csv, audit_page, *setup_pages.ROUTES,
                    *review_pages.ROUTES],
    guards=[session_guard], exception_handlers=EXCEPTION_HANDLERS, include_in_schema=False,
)]
