"""Operator routes of the catalog: movies, theaters, screens, shows."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post

from admitone.booking_core.models import (
    Movie,
    MovieIn,
    Screen,
    ScreenIn,
    Show,
    ShowIn,
    Theater,
    TheaterIn,
)
from admitone.gateway.auth import operator_guard, services


@post("/movies", summary="Create a movie")
async def create_movie(request: Request[Any, Any, Any], data: MovieIn) -> Movie:
    return await services(request).catalog.create_movie(data)


@post("/theaters", summary="Create a theater")
async def create_theater(request: Request[Any, Any, Any], data: TheaterIn) -> Theater:
    return await services(request).catalog.create_theater(data)


@post("/theaters/{theater_id:str}/screens", summary="Create a screen with its seat layout")
async def create_screen(
    request: Request[Any, Any, Any], theater_id: str, data: ScreenIn
) -> Screen:
    return await services(request).catalog.create_screen(theater_id, data)


@post("/shows", summary="Create a show; its seats start AVAILABLE")
async def create_show(request: Request[Any, Any, Any], data: ShowIn) -> Show:
    return await services(request).catalog.create_show(data)


@get("/shows/{show_id:str}", summary="A show")
async def get_show(request: Request[Any, Any, Any], show_id: str) -> Show:
    return await services(request).catalog.get_show(show_id)


router = Router(
    path="/api/v1/admin",
    route_handlers=[create_movie, create_theater, create_screen, create_show, get_show],
    guards=[operator_guard],
    tags=["operator: catalog"],
    security=[{"operatorToken": []}],
)
