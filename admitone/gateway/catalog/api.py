"""Public browse as JSON: movies by city and date with a title search, a movie's shows."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import get
from litestar.params import Parameter

from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.models import (
    MovieList,
    ShowList,
)

City = Annotated[str | None, Parameter(query="city", max_length=100, description="City name")]
Day = Annotated[date | None, Parameter(query="date", description="Day in the theater's time zone")]


@get(
    "/api/v1/movies",
    tags=["browse"],
    summary="Movies showing, by city, date and title search",
    cache=5,
)
async def list_movies(
    catalog: CatalogService,
    city: City = None,
    day: Day = None,
    q: Annotated[
        str | None, Parameter(query="q", max_length=200, description="Title search")
    ] = None,
) -> MovieList:
    return await catalog.list_movies(city, day, q)


@get(
    "/api/v1/movies/{movie_id:str}/shows",
    tags=["browse"],
    summary="A movie's shows by theater",
    cache=5,
)
async def list_movie_shows(
    catalog: CatalogService, movie_id: str, city: City = None, day: Day = None
) -> ShowList:
    return await catalog.list_movie_shows(movie_id, city, day)


ROUTES = [list_movies, list_movie_shows]
