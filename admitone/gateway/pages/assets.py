"""Static files: served by Litestar at ``/static``, linked with a content hash for caching.

No build step: the files in ``gateway/static`` are what the browser gets. A page links
``static_url("js/queue.js")`` = ``/static/js/queue.js?v=<hash>``, so a changed file is a new URL
and caches revalidate within minutes (modules imported by modules carry no version).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from litestar.datastructures import CacheControlHeader
from litestar.router import Router
from litestar.static_files import create_static_files_router

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_PATH = "/static"
# Short: a module imported by another (queue.js imports queue-api.js) carries no version.
MAX_AGE_SECONDS = 300


@cache
def _version(relative: str) -> str:
    try:
        content = (STATIC_DIR / relative).read_bytes()
    except OSError:
        return "0"
    return hashlib.sha256(content).hexdigest()[:12]


def static_url(relative: str) -> str:
    """The URL of a file under ``gateway/static``, versioned by its content."""
    return f"{STATIC_PATH}/{relative}?v={_version(relative)}"


def static_router() -> Router:
    """The router that serves ``gateway/static`` (no directory listings, no OpenAPI entry)."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(public=True, max_age=MAX_AGE_SECONDS),
        include_in_schema=False,
        name="static",
    )
