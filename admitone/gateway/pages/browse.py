"""Browse pages (seed §4.1): ``GET /`` movies by city, day and title; ``GET /movies/{movieId}``
the movie's shows by theater, each linking to its queue page (a show with an enabled waiting
room) or straight to its seat page.

Plain GET forms and links, so the pages work without JavaScript (``static/js/browse.js`` only
remembers the fan's city). Query values are read leniently: a bad date or an
unknown city falls back to the default rather than answering an error to a person.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import asyncpg
import structlog
from litestar import Request, Response, get
from litestar.datastructures import MultiDict
from redis.exceptions import RedisError

from admitone import errors
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.models import (
    Movie,
    MovieSummary,
    ShowSummary,
)
from admitone.gateway import i18n
from admitone.gateway.auth import services
from admitone.gateway.pages import formats
from admitone.gateway.pages.failures import not_found_page, unavailable_page
from admitone.gateway.pages.rendering import render_page

log = structlog.get_logger(__name__)

DAYS_AHEAD = 14
MAX_QUERY_CHARS = 200
MAX_CITY_CHARS = 100
CITY_CACHE_SECONDS = 30.0
CITY_MISS_RELOAD_SECONDS = 1.0
POSTER_COLOURS = 8
ANY_DAY = "any"
DATABASE_DOWN = (asyncpg.PostgresConnectionError, asyncpg.exceptions.CannotConnectNowError,
                 asyncpg.exceptions.TooManyConnectionsError, OSError, TimeoutError)
_cities: tuple[float, list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Filters:
    """What the fan asked for: ``city``/``day`` None mean all cities / any day."""

    city: str | None
    day: date | None
    q: str
    timezone: str
    today: date

    @property
    def day_value(self) -> str:
        return self.day.isoformat() if self.day else ANY_DAY

    def query(self, **changes: str) -> str:
        """These filters as a query string (for links), with ``changes`` applied."""
        values = {"city": self.city or "", "date": self.day_value, "q": self.q} | changes
        return urlencode({key: value for key, value in values.items() if value})


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class ShowLink:
    """One show time on the movie page."""

    id: str
    href: str
    time_text: str
    time_iso: str
    day_text: str
    price_text: str
    screen: str
    queued: bool


@dataclass(frozen=True)
class TheaterBlock:
    id: str
    name: str
    address: str
    city: str
    shows: list[ShowLink]


async def city_zones(catalog: CatalogService, wanted: str | None = None
                     ) -> list[tuple[str, str]]:
    """(city, time zone) pairs for the picker, cached briefly (a crowd loads the home page).
    A ``wanted`` city missing from the cache reloads it, at most once a second, so a city
    added a moment ago is found without letting made-up names query every time."""
    global _cities  # noqa: PLW0603 - a tiny per-process cache
    if _cities is not None:
        age = time.monotonic() - _cities[0]
        missing = bool(wanted) and all(
            city.lower() != (wanted or "").lower() for city, _zone in _cities[1])
        if age < CITY_CACHE_SECONDS and not (missing and age >= CITY_MISS_RELOAD_SECONDS):
            return _cities[1]
    found = await catalog.list_cities()
    _cities = (time.monotonic(), found)
    return found


def _wanted_city(params: MultiDict[str]) -> str:
    return " ".join((params.get("city") or "").split())[:MAX_CITY_CHARS]


def _common_zone(cities: list[tuple[str, str]]) -> str:
    zones = [zone_name for _city, zone_name in cities]
    return max(set(zones), key=zones.count) if zones else formats.DEFAULT_TIMEZONE


def read_filters(params: MultiDict[str], cities: list[tuple[str, str]], *,
                 now: datetime | None = None) -> Filters:
    """The filters of a page request: a city as the catalog spells it (a city it does not know
    yet still filters, and finds nothing); no ``date`` means today in the city's time zone,
    ``date=any`` any day, a bad date today."""
    wanted = _wanted_city(params)
    match = next(((city, zone) for city, zone in cities if city.lower() == wanted.lower()),
                 None)
    timezone = match[1] if match else _common_zone(cities)
    today = formats.today_in(timezone, now)
    raw_day = (params.get("date") or "").strip()
    day: date | None = today
    if raw_day == ANY_DAY:
        day = None
    elif raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            day = today
    query = " ".join((params.get("q") or "").split())[:MAX_QUERY_CHARS]
    return Filters(city=match[0] if match else (wanted or None), day=day, q=query,
                   timezone=timezone, today=today)


def city_options(loc: i18n.Locale, cities: list[tuple[str, str]], chosen: str | None
                 ) -> list[Option]:
    names = [city for city, _zone in cities]
    if chosen is not None and chosen not in names:
        names = sorted([*names, chosen], key=str.lower)
    return [Option("", loc.t("browse.all_cities"), chosen is None),
            *(Option(city, city, city == chosen) for city in names)]


def day_options(loc: i18n.Locale, filters: Filters) -> list[Option]:
    """"Any day", then today and the next two weeks (and the chosen day if further out)."""
    days = [filters.today + timedelta(days=n) for n in range(DAYS_AHEAD)]
    if filters.day is not None and filters.day not in days:
        days.append(filters.day)
        days.sort()
    options = [Option(ANY_DAY, loc.t("browse.any_day"), filters.day is None)]
    options += [Option(day.isoformat(), formats.day_label(loc, day, filters.today),
                       day == filters.day) for day in days]
    return options


def poster_hue(movie_id: str) -> int:
    """One of eight poster colours, the same for a movie everywhere."""
    return sum(map(ord, movie_id)) % POSTER_COLOURS


def duration_text(loc: i18n.Locale, minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return loc.t("browse.duration_minutes", minutes=loc.number(rest))
    return loc.t("browse.duration", hours=loc.number(hours), minutes=loc.number(rest))


def movie_meta(loc: i18n.Locale, movie: MovieSummary | Movie) -> list[str]:
    return [movie.language, movie.genre, duration_text(loc, movie.duration_minutes)]


def rating_text(loc: i18n.Locale, rating: Decimal | None) -> str:
    return loc.t("browse.rating", rating=f"{rating.normalize():f}") if rating is not None else ""


async def show_targets(request: Request[Any, Any, Any], show_ids: list[str]) -> dict[str, bool]:
    """Whether each show sends fans through its waiting room (enabled room) or straight to
    its seats. When the settings cannot be read, the queue page is the safe way in."""
    admission = services(request).admission
    queued: dict[str, bool] = {}
    for show_id in show_ids:
        if admission is None:
            queued[show_id] = True
            continue
        try:
            room = await admission.settings.get(show_id)
        except errors.NotFoundError:
            queued[show_id] = False
        except (*DATABASE_DOWN, RedisError, errors.DependencyUnavailableError) as exc:
            log.warning("browse_room_unreadable", show_id=show_id, error=type(exc).__name__)
            queued[show_id] = True
        else:
            queued[show_id] = room.enabled
    return queued


def show_link(loc: i18n.Locale, show: ShowSummary, timezone: str, today: date,
              queued: bool) -> ShowLink:
    local_day = show.time.astimezone(formats.zone(timezone)).date()
    # Every show goes through its queue page: with no waiting room, joining admits at once and
    # the page moves on to the seats with an access token (the booking core's only door).
    return ShowLink(
        id=show.id, href=f"/shows/{show.id}/queue",
        time_text=formats.clock(loc, show.time, timezone), time_iso=show.time.isoformat(),
        day_text=formats.day_label(loc, local_day, today),
        price_text=loc.t("browse.price_from", price=formats.money(loc, show.price,
                                                                   show.currency)),
        screen=show.screen, queued=queued,
    )


@get("/", name="browse", include_in_schema=False, media_type="text/html")
async def browse_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Movies showing in a city on a day, optionally matching a title search."""
    loc = i18n.locale_for(request)
    catalog = services(request).catalog
    try:
        cities = await city_zones(catalog, _wanted_city(request.query_params))
        filters = read_filters(request.query_params, cities)
        found = await catalog.list_movies(filters.city, filters.day, filters.q or None)
    except DATABASE_DOWN as exc:
        log.warning("browse_catalog_unavailable", error=type(exc).__name__)
        return unavailable_page(request, loc)
    movies = [{
        "id": movie.id, "title": movie.title, "meta": movie_meta(loc, movie),
        "rating": rating_text(loc, movie.rating), "initial": movie.title[:1].upper(),
        "hue": poster_hue(movie.id),
        "href": f"/movies/{movie.id}?{filters.query(q='')}".rstrip("?"),
    } for movie in found.movies]
    heading = (loc.t("browse.heading_city", city=filters.city) if filters.city
               else loc.t("browse.heading"))
    return render_page(
        request, loc, "browse/index.html", page_title=heading, heading=heading,
        filters=filters, movies=movies, cities=city_options(loc, cities, filters.city),
        days=day_options(loc, filters),
        day_text=(formats.day_label(loc, filters.day, filters.today) if filters.day
                  else loc.t("browse.any_day")),
        any_day_href=f"/?{filters.query(date=ANY_DAY)}",
        clear_search_href=f"/?{filters.query(q='')}",
    )


@get("/movies/{movie_id:str}", name="movie", include_in_schema=False, media_type="text/html")
async def movie_page(request: Request[Any, Any, Any], movie_id: str) -> Response[Any]:
    """A movie and its shows by theater, in a city on a day."""
    loc = i18n.locale_for(request)
    catalog = services(request).catalog
    try:
        movie = await catalog.get_movie(movie_id)
        cities = await city_zones(catalog, _wanted_city(request.query_params))
        filters = read_filters(request.query_params, cities)
        listing = await catalog.list_movie_shows(movie.id, filters.city, filters.day)
    except errors.NotFoundError:
        return not_found_page(request, loc)
    except DATABASE_DOWN as exc:
        log.warning("movie_catalog_unavailable", error=type(exc).__name__)
        return unavailable_page(request, loc)
    zones = {city.lower(): zone for city, zone in cities}
    queued = await show_targets(request, [show.id for t in listing.theaters for show in t.shows])
    theaters = []
    for theater in listing.theaters:
        timezone = zones.get(theater.city.lower(), filters.timezone)
        today = formats.today_in(timezone)
        theaters.append(TheaterBlock(
            id=theater.id, name=theater.name, address=theater.address, city=theater.city,
            shows=[show_link(loc, show, timezone, today, queued[show.id])
                   for show in theater.shows]))
    return render_page(
        request, loc, "browse/movie.html", page_title=movie.title, movie=movie,
        meta=movie_meta(loc, movie), rating=rating_text(loc, movie.rating),
        poster_hue=poster_hue(movie.id), any_queued=any(queued.values()),
        filters=filters, theaters=theaters, cities=city_options(loc, cities, filters.city),
        days=day_options(loc, filters), action=f"/movies/{movie.id}",
        day_text=(formats.day_label(loc, filters.day, filters.today) if filters.day
                  else loc.t("browse.any_day")),
        any_day_href=f"/movies/{movie.id}?{filters.query(date=ANY_DAY, q='')}",
        back_href=f"/?{filters.query(q='')}",
    )


ROUTES = [browse_page, movie_page]
