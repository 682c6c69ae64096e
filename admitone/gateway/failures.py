"""Failure pages that say what happened and what to do: ``GET /help/{problem}``, and friendly
HTML for the 404s a browser meets on page routes.

Other pages link to ``/help/lock-expired``, ``/help/payment-failed``, ``/help/sold-out``,
``/help/queue-paused``, ``/help/token-expired`` or ``/help/payment-pending``, optionally with
``?show=<showId>`` so that the way forward leads back to that show. A browser (``Accept:
text/html``) that asks for an unknown page, or a page route whose show, movie or booking does
not exist, gets ``templates/errors/not_found.html``; ``/api/*`` and every other non-browser
caller keep the JSON problem of ``gateway/problems.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from admitone import errors
from admitone.gateway import i18n
from admitone.gateway.help import pages as help_pages
from admitone.gateway.problems import domain_error_handler, http_error_handler
from admitone.gateway.rendering import render_page
from admitone.ids import canonical_id

# Paths that are never pages: their 404 stays a problem+json whatever the Accept header says.
NOT_PAGES = ("/api/", "/schema", "/static/", "/metrics", "/healthz", "/readyz", "/.well-known/",
             "/sandbox/payments/", "/sw.js")
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Action:
    """A way forward: where (``seats``, ``queue``, ``browse``, ``my_booking``) and its label."""

    target: str
    label_key: str


@dataclass(frozen=True)
class Problem:
    key: str
    steps: int
    actions: tuple[Action, ...]
    kind: str = "warning"


PROBLEMS: dict[str, Problem] = {
    "lock-expired": Problem("lock_expired", 2, (
        Action("seats", "help.action.choose_again"), Action("browse", "help.action.browse"))),
    "payment-failed": Problem("payment_failed", 3, (
        Action("seats", "help.action.pay_again"), Action("my_booking", "help.action.my_booking")),
        kind="error"),
    "payment-pending": Problem("payment_pending", 3, (
        Action("my_booking", "help.action.my_booking"), Action("browse", "help.action.browse")),
        kind="info"),
    "sold-out": Problem("sold_out", 2, (
        Action("browse", "help.action.other_shows"),), kind="info"),
    "queue-paused": Problem("queue_paused", 2, (
        Action("queue", "help.action.back_to_queue"), Action("browse", "help.action.browse")),
        kind="info"),
    "token-expired": Problem("token_expired", 2, (
        Action("queue", "help.action.rejoin"), Action("browse", "help.action.browse"))),
}


def action_href(target: str, show_id: str | None) -> str | None:
    """Where an action leads; None when it needs a show and none was given."""
    if target in {"seats", "queue"}:
        return f"/shows/{show_id}/{target}" if show_id else None
    return {"browse": "/", "my_booking": "/my-booking"}[target]


def not_found_page(request: Request[Any, Any, Any], loc: i18n.Locale) -> Response[Any]:
    """The friendly 404 page."""
    return render_page(request, loc, "errors/not_found.html",
                       page_title=loc.t("help.not_found.title"), status_code=404)


def unavailable_page(request: Request[Any, Any, Any], loc: i18n.Locale) -> Response[Any]:
    """A 503 page for when the catalog cannot be reached; the fan can simply reload."""
    response = render_page(request, loc, "errors/unavailable.html",
                           page_title=loc.t("help.unavailable.title"), status_code=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@get("/help/{problem:str}", name="help", include_in_schema=False, media_type="text/html")
async def help_page(request: Request[Any, Any, Any], problem: str) -> Response[Any]:
    """What happened and what to do next, for one of :data:`PROBLEMS`."""
    loc = i18n.locale_for(request)
    found = PROBLEMS.get(problem)
    if found is None:  # a problem code's reference page (the ``type`` of every problem)
        return help_pages.reference_page(request, loc, problem) or not_found_page(request, loc)
    show_id = canonical_id(request.query_params.get("show"))
    actions = []
    for action in found.actions:
        href = action_href(action.target, show_id)
        if href is not None:
            actions.append({"href": href, "label": loc.t(action.label_key)})
    if not actions:
        actions.append({"href": "/", "label": loc.t("help.action.browse")})
    base = f"help.{found.key}"
    return render_page(
        request, loc, "errors/problem.html", page_title=loc.t(f"{base}.title"),
        problem=found, title=loc.t(f"{base}.title"), what=loc.t(f"{base}.what"),
        steps=[loc.t(f"{base}.step{n}") for n in range(1, found.steps + 1)], actions=actions,
    )


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """Whether a failed request came from a browser loading a page (not an API call)."""
    if request.method not in {"GET", "HEAD"} or request.url.path.startswith(NOT_PAGES):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def page_not_found_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """No such route, or a page's show/movie/booking does not exist: HTML for a browser on a
    page route, the usual problem+json for everyone else."""
    if wants_page(request):
        return not_found_page(request, i18n.locale_for(request))
    if isinstance(exc, errors.AdmitoneError):
        return domain_error_handler(request, exc)
    return http_error_handler(request, exc)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    NotFoundException: page_not_found_handler,
    errors.NotFoundError: page_not_found_handler,
}

ROUTES = [help_page]
