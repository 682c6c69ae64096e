"""Browse pages: ``GET /`` movies by city, day and title; ``GET /movies/{movieId}`` the movie's
shows by theater, each linking to its queue page.

Plain GET forms and links, so the pages work without JavaScript (``static/js/browse.js`` only
remembers the fan's city). The catalog caches what a crowd reads at once (the cities).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import structlog
from litestar import Request, Response, get

from admitone import errors
from admitone.admission.services import AdmissionServices
from admitone.booking_core.catalog import CatalogService
from admitone.gateway import formats, i18n
from admitone.gateway.catalog.view import (
    ANY_DAY,
    Filters,
    TheaterBlock,
    address_text,
    city_options,
    day_options,
    movie_meta,
    poster_hue,
    rating_text,
    read_filters,
    show_link,
    wanted_city,
)
from admitone.gateway.failures import not_found_page, unavailable_page
from admitone.gateway.rendering import render_page

log = structlog.get_logger(__name__)


async def _next_day(catalog: CatalogService, filters: Filters,
                    movie_id: str | None = None) -> date | None:
    """The next day with shows, when the fan asked for no day and today has none."""
    if not filters.day_defaulted or filters.day != filters.today:
        return None
    return await catalog.next_show_day(filters.city, filters.today + timedelta(days=1),
                                       movie_id)


def _day_notice(loc: i18n.Locale, filters: Filters, moved: date | None) -> str:
    """Say that the page shows another day than today, and which."""
    if moved is None:
        return ""
    return loc.t("browse.next_day_notice",
                 day=formats.day_label(loc, moved, filters.today))


@get("/", name="browse", include_in_schema=False, media_type="text/html")
async def browse_page(request: Request[Any, Any, Any], catalog: CatalogService) -> Response[Any]:
    """Movies showing in a city on a day, optionally matching a title search."""
    loc = i18n.locale_for(request)
    try:
        cities = await catalog.city_zones(wanted_city(request.query_params))
        filters = read_filters(request.query_params, cities)
        found = await catalog.list_movies(filters.city, filters.day, filters.q or None)
        moved = None
        if not found.movies and not filters.q:
            moved = await _next_day(catalog, filters)
            if moved is not None:
                filters = replace(filters, day=moved)
                found = await catalog.list_movies(filters.city, filters.day, None)
    except errors.DependencyUnavailableError as exc:
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
        day_notice=_day_notice(loc, filters, moved),
    )


@get("/movies/{movie_id:str}", name="movie", include_in_schema=False, media_type="text/html")
async def movie_page(
    request: Request[Any, Any, Any], movie_id: str, catalog: CatalogService,
    admission: AdmissionServices,
) -> Response[Any]:
    """A movie and its shows by theater, in a city on a day."""
    loc = i18n.locale_for(request)
    try:
        movie = await catalog.get_movie(movie_id)
        cities = await catalog.city_zones(wanted_city(request.query_params))
        filters = read_filters(request.query_params, cities)
        listing = await catalog.list_movie_shows(movie.id, filters.city, filters.day)
        moved = None
        if not listing.theaters:
            moved = await _next_day(catalog, filters, movie.id)
            if moved is not None:
                filters = replace(filters, day=moved)
                listing = await catalog.list_movie_shows(movie.id, filters.city, filters.day)
    except errors.NotFoundError:
        return not_found_page(request, loc)
    except errors.DependencyUnavailableError as exc:
        log.warning("movie_catalog_unavailable", error=type(exc).__name__)
        return unavailable_page(request, loc)
    zones = {city.lower(): zone for city, zone in cities}
    queued = {show.id: await admission.settings.queues(show.id)
              for theater in listing.theaters for show in theater.shows}
    theaters = []
    for theater in listing.theaters:
        timezone = zones.get(theater.city.lower(), filters.timezone)
        today = formats.today_in(timezone)
        theaters.append(TheaterBlock(
            id=theater.id, name=theater.name,
            address=address_text(theater.address, theater.city), city=theater.city,
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
        day_notice=_day_notice(loc, filters, moved),
    )


ROUTES = [browse_page, movie_page]
