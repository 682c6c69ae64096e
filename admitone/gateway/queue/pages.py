"""The queue page ``GET /shows/{showId}/queue`` and its form posts for fans without JavaScript.

With JavaScript the page is a client of the queue's JSON API (``static/js/queue.js``) and keeps
its queue token in the browser's storage. Without it, the page joins through a form post, keeps
the queue token in an HttpOnly cookie scoped to the show's path, and re-renders the position on
a meta refresh; once admitted it moves on to seat selection with the access token in a cookie of
the same scope. The catalog and the waiting-room service do the work.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from admitone import errors
from admitone.admission.models import ProgressOut, StatusOut
from admitone.admission.services import AdmissionServices
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.policy import lock_network
from admitone.gateway import i18n
from admitone.gateway.client import client_binding, client_ip
from admitone.gateway.device import device_cookies
from admitone.gateway.queue.view import PageState, PlaceNumbers, RoomFacts, build_view
from admitone.gateway.rendering import is_secure, render_page
from admitone.gateway.shows import ShowInfo, queue_path, seats_path, show_for_page
from admitone.queue.store import JoinLimit
from admitone.settings import Settings

log = structlog.get_logger(__name__)

QUEUE_COOKIE = "queue_token"
START_COOKIE = "queue_start"  # people ahead at joining: the no-JS progress bar's zero
ACCESS_COOKIE = "access_token"
LEAVE_CONFIRMED = "yes"  # the ``confirm`` field of the confirming leave form
_decode_progress = msgspec.json.Decoder(ProgressOut).decode


async def _room_times(admission: AdmissionServices, show_id: str) -> RoomFacts:
    """The show's room as the page explains it; phase None when it cannot be read."""
    try:
        room = await admission.settings.get(show_id)
    except errors.NotFoundError:
        # No waiting room: joining admits at once, and the page moves the fan on to the seats.
        return RoomFacts(phase="OPEN")
    except errors.DependencyUnavailableError:
        return RoomFacts()
    return RoomFacts(phase=room.phase_at(datetime.now(UTC)), opens_at=room.opens_at,
                     starts_at=room.starts_at, queue_mode=room.queue_mode,
                     grace_seconds=room.abandon_grace_seconds,
                     session_seconds=room.session_seconds)


def _binding(request: Request[Any, Any, Any], settings: Settings) -> str:
    ip = client_ip(request)
    return client_binding(ip, request.headers.get("user-agent", ""))


async def _progress(admission: AdmissionServices, show_id: str) -> ProgressOut | None:
    try:
        return _decode_progress(await admission.rooms.progress_json(show_id))
    except (errors.AdmitoneError, msgspec.DecodeError):
        return None


_ERROR_STATES: list[tuple[type[Exception] | tuple[type[Exception], ...], PageState]] = [
    (errors.QueuePlaceGoneError, "expired"),
    (errors.QueueNotOpenError, "not_open"),
    ((errors.QueueClosedError, errors.NotFoundError), "closed"),
    (errors.RateLimitedError, "busy"),
    ((errors.TokenInvalidError, errors.TokenWrongShowError), "joining"),
    (errors.ProofOfWorkError, "error"),
]


def _state_for_error(exc: Exception) -> PageState:
    """What the page says when the queue refuses or cannot answer (else: unavailable)."""
    return next((state for kinds, state in _ERROR_STATES if isinstance(exc, kinds)),
                "unavailable")


# The first render of a fan without a place, by the room's phase.
_PHASE_STATES: dict[str, PageState] = {"CLOSED": "closed", "NOTOPEN": "not_open"}


def _cookie(request: Request[Any, Any, Any], show_id: str, key: str, value: str | None,
            max_age: int | None) -> Cookie:
    """A cookie only this show's pages see, never readable by scripts."""
    return Cookie(key=key, value=value or "", path=f"/shows/{show_id}", httponly=True,
                  samesite="lax", secure=is_secure(request),
                  max_age=max_age if value else 0)


def _clear_place(request: Request[Any, Any, Any], show_id: str) -> list[Cookie]:
    return [_cookie(request, show_id, QUEUE_COOKIE, None, None),
            _cookie(request, show_id, START_COOKIE, None, None)]


def _render(
    request: Request[Any, Any, Any], loc: i18n.Locale, show: ShowInfo, state: PageState, *,
    numbers: PlaceNumbers | None = None, cookies: list[Cookie] | None = None,
    notice: str | None = None, times: RoomFacts | None = None,
) -> Template:
    view = build_view(loc, show, state, numbers=numbers, room=times, notice_override=notice)
    return render_page(request, loc, "queue/page.html",
                       page_title=loc.t("queue.page_title", title=view.show_title),
                       cookies=[*(cookies or []), *device_cookies(request)], view=view,
                       leave_csrf=leave_csrf(request.cookies.get(QUEUE_COOKIE)))


LEAVE_CSRF_FIELD = "csrf"


def leave_csrf(queue_token: str | None) -> str:
    """The leave form's token: a hash of the queue cookie (double submit). A cross-site page
    can make the browser send the cookie but cannot read it, so it cannot send this field."""
    if not queue_token:
        return ""
    digest = hashlib.sha256(b"admitone leave form|" + queue_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


async def _leave_is_same_site(request: Request[Any, Any, Any], queue_token: str) -> bool:
    """The leave form came from our own page: not a cross-site request (Sec-Fetch-Site, when
    the browser sends it) and the form's token matches the cookie."""
    if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
        return False
    try:
        sent = (await request.form()).get(LEAVE_CSRF_FIELD)
    except Exception:  # noqa: BLE001 - an unreadable form has no token
        return False
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(),
                                                         leave_csrf(queue_token).encode())


def _not_found(request: Request[Any, Any, Any], loc: i18n.Locale) -> Template:
    return render_page(request, loc, "queue/not_found.html",
                       page_title=loc.t("queue.not_found_title"), status_code=404)


def _access_cookies(request: Request[Any, Any, Any], show_id: str, access_token: str,
                    expires_at: datetime | None) -> list[Cookie]:
    seconds = int((expires_at - datetime.now(UTC)).total_seconds()) if expires_at else 600
    return [*_clear_place(request, show_id),
            _cookie(request, show_id, ACCESS_COOKIE, access_token, max(1, seconds))]


def _admitted(request: Request[Any, Any, Any], show_id: str, access_token: str,
              expires_at: datetime | None) -> Redirect:
    """Move a fan without JavaScript on to seat selection, its access token in a cookie."""
    return Redirect(seats_path(show_id), status_code=303,
                    cookies=[*_access_cookies(request, show_id, access_token, expires_at),
                             *device_cookies(request)],
                    headers={"Cache-Control": "no-store"})


def _numbers(answer: StatusOut, progress: ProgressOut | None, start: str | None) -> PlaceNumbers:
    initial = int(start) if start and start.isdigit() else None
    return PlaceNumbers(
        position=answer.position, total_in_queue=answer.total_in_queue,
        ticket_number=answer.ticket_number, estimated_wait_seconds=answer.estimated_wait_seconds,
        estimated_wait_reason=answer.estimated_wait_reason,
        observed_per_minute=progress.observed_admissions_per_minute if progress else None,
        initial_ahead=initial, chance=answer.chance, entry_id=answer.entry_id,
    )


@get("/shows/{show_id:str}/queue", tags=["pages"], summary="The queue page (HTML)",
     include_in_schema=True, media_type="text/html")
async def queue_page(
    request: Request[Any, Any, Any], show_id: str, catalog: CatalogService,
    admission: AdmissionServices, settings: Settings,
) -> Response[Any]:
    """The waiting room of a show: position, people ahead, wait, progress; live with JS."""
    loc = i18n.locale_for(request)
    show = await show_for_page(catalog, show_id)
    if show is None:
        return _not_found(request, loc)
    if show.id != show_id:  # one spelling of the URL, so the show-scoped cookies always match
        query = f"?{request.url.query}" if request.url.query else ""
        return Redirect(f"{queue_path(show.id)}{query}", status_code=301)
    times = await _room_times(admission, show.id)
    token = request.cookies.get(QUEUE_COOKIE)
    if not token:
        return _render(request, loc, show, _PHASE_STATES.get(times.phase or "", "joining"),
                       times=times)
    return await _page_with_place(request, loc, show, token, times, admission=admission,
                                  settings=settings)


async def _page_with_place(
    request: Request[Any, Any, Any], loc: i18n.Locale, show: ShowInfo, token: str,
    times: RoomFacts, *,
    admission: AdmissionServices, settings: Settings,
) -> Response[Any]:
    """The page of a fan without JavaScript who holds a place (its queue token cookie)."""
    try:
        answer = await admission.rooms.status(
            show.id, binding=_binding(request, settings), queue_token=token)
    except errors.AdmitoneError as exc:
        state = _state_for_error(exc)
        keep = state in {"unavailable", "busy", "not_open"}
        return _render(request, loc, show, state, times=times,
                       cookies=None if keep else _clear_place(request, show.id))
    if answer.status == "ADMITTED" and answer.access_token:
        if answer.few_seats_left and answer.seats_left is not None:
            # Told before the seat map, not after: the page says so and links on.
            notice = loc.t("queue.few_seats", seats=loc.number(answer.seats_left))
            return _render(request, loc, show, "admitted", notice=notice, times=times,
                           cookies=_access_cookies(request, show.id, answer.access_token,
                                                   answer.access_expires_at))
        return _admitted(request, show.id, answer.access_token, answer.access_expires_at)
    progress = await _progress(admission, show.id)
    numbers = _numbers(answer, progress, request.cookies.get(START_COOKIE))
    if answer.status == "PREQUEUE":
        return _render(request, loc, show, "prequeue", numbers=numbers, times=times)
    if answer.status == "SOLD_OUT":
        return _render(request, loc, show, "sold_out", numbers=numbers, times=times)
    paused = progress is not None and progress.status == "PAUSED"
    return _render(request, loc, show, "paused" if paused else "waiting", numbers=numbers,
                   times=times)


async def _form_field(request: Request[Any, Any, Any], name: str) -> str | None:
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a bad form body only loses the field
        return None
    value = form.get(name)
    return value if isinstance(value, str) else None


async def _form_language(request: Request[Any, Any, Any]) -> str | None:
    value = await _form_field(request, "lang")
    return value if value in i18n.SUPPORTED_LANGUAGES else None


def _page_url(show_id: str, language: str | None) -> str:
    return f"{queue_path(show_id)}?lang={language}" if language else queue_path(show_id)


@post("/shows/{show_id:str}/queue", tags=["pages"], include_in_schema=False, status_code=303)
async def join_form(
    request: Request[Any, Any, Any], show_id: str, *, catalog: CatalogService,
    admission: AdmissionServices, settings: Settings,
) -> Response[Any]:
    """Join (or keep a place) from the page's form; then back to the page (post/redirect/get)."""
    language = await _form_language(request)
    loc = i18n.negotiate(request.headers.get("accept-language"), language)
    show = await show_for_page(catalog, show_id)
    if show is None:
        return _not_found(request, loc)
    # The same per-IP join limit as the JSON route, taken in the join's script call (RATE_LIMITED
    # is the "busy" page below; if Redis is down the join decides). A stale cookie is refused
    # before the script, so the fresh join after it takes the one token.
    token = request.cookies.get(QUEUE_COOKIE)
    limit = JoinLimit(client_ip(request), settings.queue_join_rate_per_second,
                      settings.queue_join_burst)
    try:
        joined = await admission.rooms.join(
            show.id, binding=_binding(request, settings), queue_token=token, pow_answer=None,
            network=functools.partial(lock_network, client_ip(request)), limit=limit)
    except errors.TokenInvalidError:
        joined = None
    except errors.AdmitoneError as exc:
        state = _state_for_error(exc)
        notice = loc.t("queue.pow_no_js") if isinstance(exc, errors.ProofOfWorkError) else None
        times = await _room_times(admission, show.id)
        return _render(request, loc, show, state, notice=notice, times=times)
    if joined is None:  # a stale cookie: a fresh place
        return await _join_fresh(request, show, loc, language, admission=admission,
                                 settings=settings, limit=limit)
    if joined.status == "ADMITTED" and joined.access_token:
        return _admitted(request, show.id, joined.access_token, joined.access_expires_at)
    return _joined_redirect(request, show.id, joined.token, joined.position, language,
                            max_age=settings.queue_token_seconds)


async def _join_fresh(request: Request[Any, Any, Any], show: ShowInfo, loc: i18n.Locale,
                      language: str | None, *, admission: AdmissionServices,
                      settings: Settings, limit: JoinLimit | None = None) -> Response[Any]:
    try:
        joined = await admission.rooms.join(
            show.id, binding=_binding(request, settings), queue_token=None, pow_answer=None,
            network=functools.partial(lock_network, client_ip(request)), limit=limit)
    except errors.AdmitoneError as exc:
        notice = loc.t("queue.pow_no_js") if isinstance(exc, errors.ProofOfWorkError) else None
        return _render(request, loc, show, _state_for_error(exc), notice=notice,
                       cookies=_clear_place(request, show.id))
    if joined.status == "ADMITTED" and joined.access_token:
        return _admitted(request, show.id, joined.access_token, joined.access_expires_at)
    return _joined_redirect(request, show.id, joined.token, joined.position, language,
                            max_age=settings.queue_token_seconds)


def _joined_redirect(request: Request[Any, Any, Any], show_id: str, token: str,
                     position: int | None, language: str | None, *, max_age: int) -> Redirect:
    cookies = [_cookie(request, show_id, QUEUE_COOKIE, token, max_age), *device_cookies(request)]
    if position is not None and request.cookies.get(START_COOKIE) is None:
        cookies.append(_cookie(request, show_id, START_COOKIE, str(max(0, position - 1)), max_age))
    return Redirect(_page_url(show_id, language), status_code=303, cookies=cookies,
                    headers={"Cache-Control": "no-store"})


@post("/shows/{show_id:str}/queue/leave", tags=["pages"], include_in_schema=False,
      status_code=200)
async def leave_form(
    request: Request[Any, Any, Any], show_id: str, catalog: CatalogService,
    admission: AdmissionServices, settings: Settings,
) -> Response[Any]:
    """Leave from the page's form, in two steps: the page's "Leave the queue" asks first (a
    page with the place at stake, a "Yes, leave" form and a way back); the form posted with
    ``confirm=yes`` leaves, and the page then offers to join again. With JavaScript the page
    asks in a dialog instead and calls the API."""
    language = await _form_language(request)
    loc = i18n.negotiate(request.headers.get("accept-language"), language)
    show = await show_for_page(catalog, show_id)
    if show is None:
        return _not_found(request, loc)
    token = request.cookies.get(QUEUE_COOKIE)
    if token and not await _leave_is_same_site(request, token):
        # Not from our page (or a page from before the cookie changed): nothing is left, and
        # the fan lands on the page as it stands, with a fresh form.
        log.info("queue_page_leave_refused", show_id=show.id, reason="csrf")
        return Redirect(_page_url(show.id, language), status_code=303,
                        headers={"Cache-Control": "no-store"})
    if token and await _form_field(request, "confirm") != LEAVE_CONFIRMED:
        return await _confirm_leave(request, loc, show, token, admission=admission,
                                    settings=settings)
    if token:
        try:
            await admission.rooms.leave(show.id, binding=_binding(request, settings),
                                        queue_token=token)
        except errors.AdmitoneError as exc:
            log.info("queue_page_leave_failed", show_id=show.id, error=type(exc).__name__)
    return _render(request, loc, show, "left", cookies=_clear_place(request, show.id))


async def _confirm_leave(request: Request[Any, Any, Any], loc: i18n.Locale, show: ShowInfo,
                         token: str, *, admission: AdmissionServices,
                         settings: Settings) -> Response[Any]:
    """The question before leaving, naming the place the fan would give up (when known)."""
    numbers = None
    try:
        answer = await admission.rooms.status(
            show.id, binding=_binding(request, settings), queue_token=token)
        numbers = PlaceNumbers(position=answer.position, ticket_number=answer.ticket_number)
    except errors.AdmitoneError as exc:
        log.info("queue_page_leave_status_failed", show_id=show.id, error=type(exc).__name__)
    return _render(request, loc, show, "confirm_leave", numbers=numbers or PlaceNumbers())


ROUTES = [queue_page, join_form, leave_form]
