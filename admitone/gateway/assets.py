"""Static files, under a path that carries a hash of the whole static folder.

No build step: the files in ``gateway/static`` are what the browser gets. A page links
``static_url("js/queue.js")`` = ``/static/<hash>/js/queue.js``, where ``<hash>`` covers every
file of the folder. An entry script's relative imports (``./queue-api.js``) resolve under the
same hash, so after a deploy a page never runs a new entry script against stale imports, and
every file under a hashed path may be cached for a year.

``/static/<file>`` without a hash stays, with a short cache, for the URLs that must not change
(the web app manifest and its icons). ``GET /sw.js`` serves the service worker from the root, so
that its scope covers every page.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/static"
# Unhashed URLs (manifest, icons): revalidated within minutes.
MAX_AGE_SECONDS = 300
HASHED_MAX_AGE_SECONDS = 365 * 24 * 3600
_SW_HEADERS = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/",
               "X-Content-Type-Options": "nosniff"}


def folder_hash(folder: Path) -> str:
    """12 hex digits of SHA-256 over every file's relative path and content, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


STATIC_HASH = folder_hash(STATIC_DIR)
HASHED_PATH = f"{STATIC_PATH}/{STATIC_HASH}"


def static_url(relative: str) -> str:
    """The URL of a file under ``gateway/static``, under the folder's hash."""
    return f"{HASHED_PATH}/{relative}"


def static_routers() -> list[Router]:
    """The routers that serve ``gateway/static`` (no listings, no OpenAPI entries)."""
    return [
        create_static_files_router(
            path=HASHED_PATH, directories=[STATIC_DIR], include_in_schema=False,
            cache_control=CacheControlHeader(public=True, max_age=HASHED_MAX_AGE_SECONDS,
                                             immutable=True),
            name="static_hashed",
        ),
        create_static_files_router(
            path=STATIC_PATH, directories=[STATIC_DIR], include_in_schema=False,
            cache_control=CacheControlHeader(public=True, max_age=MAX_AGE_SECONDS),
            name="static",
        ),
    ]


@get("/sw.js", include_in_schema=False, media_type="text/javascript")
async def service_worker() -> Response[bytes]:
    """The service worker script (``static/sw.js``), from the root: its scope is every page."""
    return Response((STATIC_DIR / "sw.js").read_bytes(), media_type="text/javascript",
                    headers=_SW_HEADERS)


ROUTES: list[ControllerRouterHandler] = [service_worker, *static_routers()]
