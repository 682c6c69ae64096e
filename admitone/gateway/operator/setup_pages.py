"""Set-up without curl: movies, theaters, screens (a rows form or a CSV of seats), shows, and
each show's waiting room with every field of the API, times in the operator's time zone.

Each form posts to itself; a bad value shows the form again with the message and what was
typed, and nothing is created. The services do the work (CatalogService, BackOffice,
RoomSettings): the same checks as the JSON API.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.response import Redirect, Template

from admitone import errors
from admitone.admission.models import WaitingRoomIn
from admitone.admission.services import AdmissionServices
from admitone.booking_core import models as m
from admitone.booking_core.backoffice import BackOffice
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.layout_csv import LayoutCsvError, parse_layout_csv
from admitone.gateway import i18n
from admitone.gateway.operator import view
from admitone.gateway.operator.access import (
    actor,
    checked_form,
    current_session,
    render,
)

ROW_SLOTS = 8  # blank rows in the screen form (the script adds more)
MAX_CSV_BYTES = 60 * 1024  # within the app's request body limit


T = TypeVar("T")


class FormProblemError(Exception):
    """A value of a set-up form is wrong; the message is for the operator."""


def _require(value: T | None, message: str) -> T:
    """``value``, unless it is empty: then the form is shown again with ``message``."""
    if not value:
        raise FormProblemError(message)
    return value


def _values(form: FormMultiDict) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _problem(exc: Exception) -> str:
    if isinstance(exc, errors.AdmitoneError):
        return str(exc)
    return str(exc).replace("Expected", "expected")


def _convert(struct: type[Any], data: dict[str, Any]) -> Any:
    try:
        return msgspec.convert(data, struct, strict=False)
    except (msgspec.ValidationError, ValueError) as exc:
        raise FormProblemError(_problem(exc)) from exc


def _page(request: Request[Any, Any, Any], template: str, title_key: str, *,
          status_code: int = 200, **context: Any) -> Template:
    loc = i18n.locale_for(request)
    return render(request, f"setup/{template}", title=loc.t(title_key), status_code=status_code,
                  **context)


# Movies and theaters -------------------------------------------------------------------------


@get("/movies/new")
async def movie_form(request: Request[Any, Any, Any]) -> Template:
    return _page(request, "movie.html", "op.setup.movie.title", values={}, error="")


@post("/movies/new", status_code=303)
async def create_movie(request: Request[Any, Any, Any], catalog: CatalogService
                       ) -> Response[Any]:
    values = _values(await checked_form(request))
    try:
        movie = await catalog.create_movie(_convert(m.MovieIn, {
            "title": values.get("title", ""), "durationMinutes": values.get("durationMinutes"),
            "language": values.get("language", ""), "genre": values.get("genre", ""),
            **({"rating": values["rating"]} if values.get("rating") else {}),
            **({"releaseDate": values["releaseDate"]} if values.get("releaseDate") else {}),
        }))
    except (FormProblemError, errors.InvalidRequestError) as exc:
        return _page(request, "movie.html", "op.setup.movie.title", status_code=400,
                     values=values, error=str(exc))
    return Redirect(f"/admin/shows/new?movie={movie.id}", status_code=303)


@get("/theaters/new")
async def theater_form(request: Request[Any, Any, Any]) -> Template:
    return _page(request, "theater.html", "op.setup.theater.title",
                 values={"timezone": current_session(request).tz}, error="",
                 zones=_zones())


def _zones() -> list[str]:
    from admitone.gateway.operator.pages import time_zones  # noqa: PLC0415 - no import cycle

    return time_zones()


@post("/theaters/new", status_code=303)
async def create_theater(request: Request[Any, Any, Any], catalog: CatalogService
                         ) -> Response[Any]:
    values = _values(await checked_form(request))
    try:
        theater = await catalog.create_theater(_convert(m.TheaterIn, {
            "name": values.get("name", ""), "city": values.get("city", ""),
            "address": values.get("address", ""), "timezone": values.get("timezone") or "UTC"}))
    except (FormProblemError, errors.InvalidRequestError) as exc:
        return _page(request, "theater.html", "op.setup.theater.title", status_code=400,
                     values=values, error=str(exc), zones=_zones())
    return Redirect(f"/admin/screens/new?theater={theater.id}", status_code=303)


# Screens: a rows form, or a CSV of seats ---------------------------------------------------


def _rows(form: FormMultiDict) -> list[dict[str, str]]:
    names, seats = form.getall("rowName", []), form.getall("rowSeats", [])
    types, multipliers = form.getall("rowType", []), form.getall("rowMultiplier", [])
    rows = []
    for name, count, seat_type, multiplier in zip(names, seats, types, multipliers, strict=False):
        if isinstance(name, str) and name.strip():
            rows.append({"name": name.strip().upper(), "seats": str(count).strip(),
                         "seatType": str(seat_type).strip().upper() or "REGULAR",
                         "priceMultiplier": str(multiplier).strip() or "1.00"})
    return rows


async def _csv_text(form: FormMultiDict) -> str | None:
    upload = form.get("layoutCsv")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    raw = await upload.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise FormProblemError(f"The CSV is larger than {MAX_CSV_BYTES // 1024} KB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormProblemError("The CSV must be UTF-8 text") from None


def _screen_page(request: Request[Any, Any, Any], theaters: list[Any], values: dict[str, str],
                 rows: list[dict[str, str]], *, error: str = "", status_code: int = 200
                 ) -> Template:
    blank = {"name": "", "seats": "", "seatType": "REGULAR", "priceMultiplier": "1.00"}
    shown = rows + [blank] * max(0, ROW_SLOTS - len(rows))
    return _page(request, "screen.html", "op.setup.screen.title", status_code=status_code,
                 theaters=theaters, values=values, rows=shown, error=error)


@get("/screens/new")
async def screen_form(request: Request[Any, Any, Any], backoffice: BackOffice) -> Template:
    values = {"theaterId": request.query_params.get("theater", "")}
    return _screen_page(request, await backoffice.theater_choices(), values, rows=[])


@post("/screens/new", status_code=303)
async def create_screen(request: Request[Any, Any, Any], catalog: CatalogService,
                        backoffice: BackOffice) -> Response[Any]:
    """From the CSV when one is uploaded (all its lines or nothing), else from the rows."""
    form = await checked_form(request)
    values, rows = _values(form), _rows(form)
    theater, name = values.get("theaterId", ""), values.get("name", "")
    try:
        _require(name, i18n.locale_for(request).t("op.setup.screen.need_name"))
        text = await _csv_text(form)
        if text is not None:
            screen = await backoffice.create_screen_from_seats(theater, name,
                                                               parse_layout_csv(text))
        else:
            layout = _convert(m.LayoutIn, {"rows": rows})
            screen = await catalog.create_screen(theater, m.ScreenIn(name=name, layout=layout))
    except (FormProblemError, LayoutCsvError, errors.InvalidRequestError,
            errors.NotFoundError) as exc:
        return _screen_page(request, await backoffice.theater_choices(), values, rows=rows,
                            error=str(exc), status_code=400)
    return Redirect(f"/admin/shows/new?screen={screen.id}", status_code=303)


# Shows -------------------------------------------------------------------------------------


async def _show_page(request: Request[Any, Any, Any], backoffice: BackOffice,
                     values: dict[str, str], error: str = "", status_code: int = 200
                     ) -> Template:
    return _page(request, "show.html", "op.setup.show.title", status_code=status_code,
                 movies=await backoffice.movie_choices(), screens=await backoffice.screen_choices(),
                 values=values, error=error)


@get("/shows/new")
async def show_form(request: Request[Any, Any, Any], backoffice: BackOffice) -> Template:
    query = request.query_params
    return await _show_page(request, backoffice, {
        "movieId": query.get("movie", ""), "screenId": query.get("screen", ""),
        "currency": "INR", "basePrice": ""})


@post("/shows/new", status_code=303)
async def create_show(request: Request[Any, Any, Any], catalog: CatalogService,
                      backoffice: BackOffice) -> Response[Any]:
    values = _values(await checked_form(request))
    zone = current_session(request).tz
    try:
        try:
            when = view.parse_local(values.get("showTime"), zone)
            price = Decimal(values.get("basePrice", ""))
        except (ValueError, InvalidOperation) as exc:
            raise FormProblemError(i18n.locale_for(request).t("op.setup.show.bad")) from exc
        starts = _require(when, i18n.locale_for(request).t("op.setup.show.need_time"))
        limit = values.get("maxSeatsPerVisitor")
        show = await catalog.create_show(_convert(m.ShowIn, {
            "movieId": values.get("movieId", ""), "screenId": values.get("screenId", ""),
            "showTime": starts.isoformat(), "basePrice": str(price),
            "currency": values.get("currency", "").upper(),
            **({"maxSeatsPerVisitor": limit} if limit else {})}))
    except (FormProblemError, errors.InvalidRequestError, errors.NotFoundError) as exc:
        return await _show_page(request, backoffice, values, error=str(exc), status_code=400)
    return Redirect(f"/admin/shows/{show.id}/waiting-room", status_code=303)


# The show's waiting room -------------------------------------------------------------------

_ROOM_DEFAULTS = {"enabled": "on", "releaseRatePerMinute": "60", "maxActive": "500",
                  "sessionSeconds": "600", "queueMode": "FIFO", "abandonGraceSeconds": "60",
                  "powDifficultyBits": "0"}


def _room_values(room: Any, zone: str) -> dict[str, str]:
    return {
        "enabled": "on" if room.enabled else "", "paused": "on" if room.paused else "",
        "failOpen": "on" if room.fail_open else "",
        "releaseRatePerMinute": str(room.release_rate_per_minute),
        "maxActive": str(room.max_active), "sessionSeconds": str(room.session_seconds),
        "queueMode": room.queue_mode, "abandonGraceSeconds": str(room.abandon_grace_seconds),
        "powDifficultyBits": str(room.pow_difficulty_bits),
        "opensAt": view.local_input(room.opens_at, zone),
        "startsAt": view.local_input(room.starts_at, zone),
    }


async def _room_page(request: Request[Any, Any, Any], backoffice: BackOffice, show_id: str,
                     values: dict[str, str], *, error: str = "", status_code: int = 200,
                     exists: bool = False) -> Template:
    show = await backoffice.show(show_id)
    return _page(request, "room.html", "op.setup.room.title", status_code=status_code,
                 show=show, values=values, error=error, exists=exists)


@get("/shows/{show_id:str}/waiting-room")
async def room_form(request: Request[Any, Any, Any], show_id: str, backoffice: BackOffice,
                    admission: AdmissionServices | None) -> Template:
    show = await backoffice.show(show_id)
    if admission is None:
        raise errors.QueueUnavailableError
    try:
        room = await admission.settings.get(show.id)
    except errors.WaitingRoomNotFoundError:
        return await _room_page(request, backoffice, show.id, dict(_ROOM_DEFAULTS))
    return await _room_page(request, backoffice, show.id,
                            _room_values(room, current_session(request).tz), exists=True)


@post("/shows/{show_id:str}/waiting-room", status_code=303)
async def save_room(request: Request[Any, Any, Any], show_id: str, backoffice: BackOffice,
                    admission: AdmissionServices | None) -> Response[Any]:
    """Set up (or replace) the room: every field of ``PUT …/waiting-room``."""
    values = _values(await checked_form(request))
    show = await backoffice.show(show_id)
    if admission is None:
        raise errors.QueueUnavailableError
    zone = current_session(request).tz
    try:
        try:
            opens = view.parse_local(values.get("opensAt"), zone)
            starts = view.parse_local(values.get("startsAt"), zone)
        except ValueError as exc:
            raise FormProblemError(i18n.locale_for(request).t("op.setup.room.bad_time")) from exc
        room = _convert(WaitingRoomIn, {
            "enabled": values.get("enabled") == "on", "paused": values.get("paused") == "on",
            "failOpen": values.get("failOpen") == "on",
            "releaseRatePerMinute": values.get("releaseRatePerMinute"),
            "maxActive": values.get("maxActive"), "sessionSeconds": values.get("sessionSeconds"),
            "queueMode": values.get("queueMode"),
            "abandonGraceSeconds": values.get("abandonGraceSeconds") or 60,
            "powDifficultyBits": values.get("powDifficultyBits") or 0,
            "opensAt": opens.isoformat() if opens else None,
            "startsAt": starts.isoformat() if starts else None,
        })
        await admission.settings.put(show.id, room, actor(request))
    except (FormProblemError, errors.InvalidRequestError) as exc:
        return await _room_page(request, backoffice, show.id, values, error=str(exc),
                                status_code=400)
    return Redirect(f"/admin/shows/{show.id}?done=room", status_code=303)


ROUTES = [movie_form, create_movie, theater_form, create_theater, screen_form, create_screen,
          show_form, create_show, room_form, save_room]
