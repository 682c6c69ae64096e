"""Server-rendered pages (Jinja2 templates in ``gateway/templates``) and their static files.

``ROUTES`` are the page routes (and the queue's Server-Sent Events stream); ``static_router()``
serves ``gateway/static`` at ``/static``.
"""

from __future__ import annotations

from admitone.gateway.pages.assets import static_router
from admitone.gateway.pages.booking import ROUTES as BOOKING_PAGE_ROUTES
from admitone.gateway.pages.browse import ROUTES as BROWSE_ROUTES
from admitone.gateway.pages.events import ROUTES as EVENT_ROUTES
from admitone.gateway.pages.failures import EXCEPTION_HANDLERS
from admitone.gateway.pages.failures import ROUTES as HELP_ROUTES
from admitone.gateway.pages.my_booking import ROUTES as MY_BOOKING_ROUTES
from admitone.gateway.pages.queue import ROUTES as QUEUE_ROUTES
from admitone.gateway.pages.seat_events import ROUTES as SEAT_EVENT_ROUTES
from admitone.gateway.pages.seats import ROUTES as SEAT_PAGE_ROUTES

ROUTES = [*QUEUE_ROUTES, *EVENT_ROUTES]
# Browse, booking and help pages (issue 4).
ROUTES += [*BROWSE_ROUTES, *BOOKING_PAGE_ROUTES, *MY_BOOKING_ROUTES, *HELP_ROUTES]
# Seat selection, hold and checkout pages, the live seat stream, the beacon release (issue 4).
ROUTES += [*SEAT_PAGE_ROUTES, *SEAT_EVENT_ROUTES]

__all__ = ["EXCEPTION_HANDLERS", "ROUTES", "static_router"]
