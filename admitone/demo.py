"""The demo catalog of ``admitone up --demo``: a movie, a theater, a 10 x 20 screen, a show."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from admitone.booking_core.models import (
    LayoutIn,
    MovieIn,
    RowIn,
    ScreenIn,
    ShowIn,
    TheaterIn,
)
from admitone.runtime import open_services
from admitone.settings import Settings

_MARKER = "demo-show-id"


async def _existing_show(settings: Settings, pool: asyncpg.Pool) -> str | None:
    marker = settings.data_dir / _MARKER
    if not marker.exists():
        return None
    show_id = marker.read_text(encoding="utf-8").strip()
    try:
        found = await pool.fetchval(
            "SELECT id FROM shows WHERE id = $1 AND show_time > now()", uuid.UUID(show_id)
        )
    except ValueError:
        return None
    return str(found) if found else None


async def create_demo(settings: Settings) -> str:
    """Create (once per data folder) the demo show with an open waiting room; return its id."""
    async with open_services(settings) as services:
        show_id = await _existing_show(settings, services.pool)
        if show_id is None:
            catalog = services.catalog
            movie = await catalog.create_movie(
                MovieIn(
                    title="Midnight Premiere",
                    duration_minutes=148,
                    language="Hindi",
                    genre="Thriller",
                    rating=Decimal("8.4"),
                    description="The most awaited release of the year: opening night, one screen.",
                )
            )
            theater = await catalog.create_theater(
                TheaterIn(
                    name="Regal Talkies",
                    city="Mumbai",
                    address="Colaba Causeway, Mumbai 400001",
                    timezone="Asia/Kolkata",
                )
            )
            rows = [
                RowIn(
                    name=name,
                    seats=20,
                    seat_type="PREMIUM" if name in "IJ" else "REGULAR",
                    price_multiplier=Decimal("1.50") if name in "IJ" else Decimal("1.00"),
                )
                for name in "ABCDEFGHIJ"
            ]
            screen = await catalog.create_screen(
                theater.id, ScreenIn(name="Audi 1", layout=LayoutIn(rows=rows))
            )
            starts = (datetime.now(UTC) + timedelta(days=2)).replace(
                hour=14, minute=0, second=0, microsecond=0
            )  # 19:30 in Mumbai
            show = await catalog.create_show(
                ShowIn(
                    movie_id=movie.id,
                    screen_id=screen.id,
                    show_time=starts,
                    base_price=Decimal("200.00"),
                    currency="INR",
                )
            )
            show_id = show.id
            (settings.data_dir / _MARKER).write_text(show_id, encoding="utf-8")
        rooms = services.extras.get("rooms")
        enable = getattr(rooms, "enable_demo_room", None)
        if callable(enable):
            await enable(show_id)
        return show_id
