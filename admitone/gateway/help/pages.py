"""``GET /help/<code>`` for every problem code: the page a problem's ``type`` names.

A code with a page written for fans (``failures.PROBLEMS``: ``lock-expired``,
``token-expired``) keeps that page; every other code of ``problems.EXAMPLES`` gets this
reference page: its status, title, what to do, and the example body. The page's frame is in
the fan's language; the problem's own texts are the API's, in English, and the page says so.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response

from admitone.gateway import i18n
from admitone.gateway.problems import EXAMPLES, ProblemDoc, help_slug
from admitone.gateway.rendering import render_page

BY_SLUG: dict[str, ProblemDoc] = {help_slug(code): doc for code, doc in EXAMPLES.items()}


def reference_page(
    request: Request[Any, Any, Any], loc: i18n.Locale, slug: str
) -> Response[Any] | None:
    """The page of the problem code ``slug`` (``seat-unavailable``); None if there is none."""
    doc = BY_SLUG.get(slug)
    if doc is None:
        return None
    return render_page(
        request, loc, "help/reference.html", page_title=f"{doc.code} · {doc.title}", doc=doc,
        example=json.dumps(doc.example, indent=2, ensure_ascii=False),
        kind="error" if doc.status >= 500 else "warning",  # noqa: PLR2004 - server side
    )
