"""What the show pages (queue, seats, checkout) share: their paths and the show's header.

Each page prints the show's title, time and place from ``CatalogService.show_details`` (cached
in the catalog). When the catalog cannot be reached the page still renders, with an empty title
(the page's script then says what is wrong); an unknown show is a 404 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from admitone import errors
from admitone.booking_core.catalog import CatalogService

log = structlog.get_logger(__name__)


def draw_path(show_id: str) -> str:
    """The published pre-queue draw of a show (JSON; ``admitone verify-draw`` checks it)."""
    return f"/api/v1/queue/{show_id}/draw"


def queue_path(show_id: str) -> str:
    return f"/shows/{show_id}/queue"


def seats_path(show_id: str) -> str:
    return f"/shows/{show_id}/seats"


def checkout_path(show_id: str) -> str:
    return f"/shows/{show_id}/checkout"


@dataclass(frozen=True)
class ShowInfo:
    """What a page says about the show (``title`` is empty when the catalog was unreachable;
    ``screen`` and ``max_seats_per_visitor`` are then None too)."""

    id: str
    title: str
    show_time: datetime | None
    timezone: str | None
    theater: str | None
    city: str | None
    screen: str | None = None
    max_seats_per_visitor: int | None = None
    movie_id: str | None = None  # the movie's page lists the show's other dates


async def show_for_page(catalog: CatalogService, show_id: str) -> ShowInfo | None:
    """The show's header; None for an unknown show, an untitled one when the catalog is down."""
    try:
        details = await catalog.show_details(show_id)
    except errors.NotFoundError:
        return None
    except errors.DependencyUnavailableError as exc:
        log.warning("show_page_catalog_unavailable", show_id=show_id[:64], error=repr(exc))
        return ShowInfo(id=show_id, title="", show_time=None, timezone=None, theater=None,
                        city=None)
    return ShowInfo(
        id=details.id, title=details.title, show_time=details.show_time,
        timezone=details.timezone, theater=details.theater, city=details.city,
        screen=details.screen, max_seats_per_visitor=details.max_seats_per_visitor,
        movie_id=details.movie_id,
    )
