"""What every page shares: the base template's context, the language cookie, security headers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request
from litestar.datastructures import Cookie
from litestar.response import Template

from admitone.emails import EMAIL_PATTERN
from admitone.gateway import i18n
from admitone.gateway.assets import static_url

LANG_COOKIE_SECONDS = 365 * 24 * 3600
# Pages load only their own scripts, styles and images and talk only to this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The API's e-mail rule, rendered on the pages' e-mail inputs for their scripts (lib/email.js).
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Vary": "Accept-Language, Cookie",
}


def is_secure(request: Request[Any, Any, Any]) -> bool:
    """Whether cookies may be marked ``Secure`` (the page was served over HTTPS)."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def language_links(request: Request[Any, Any, Any], loc: i18n.Locale) -> list[dict[str, Any]]:
    """The language switcher: this page in each language (``?lang=``, other query kept)."""
    kept = [(key, value) for key, value in request.query_params.multi_items()
            if key != i18n.LANG_QUERY]
    links = []
    for code in i18n.SUPPORTED_LANGUAGES:
        query = urlencode([*kept, (i18n.LANG_QUERY, code)])
        links.append({"code": code, "label": loc.t(f"lang.{code}"),
                      "href": f"{request.url.path}?{query}", "current": code == loc.language})
    return links


def render_page(
    request: Request[Any, Any, Any], loc: i18n.Locale, template: str, *, page_title: str,
    status_code: int = 200, cookies: list[Cookie] | None = None, **context: Any,
) -> Template:
    """A page response: base context, security headers, and the ``lang`` cookie when the
    caller picked a language with ``?lang=`` (so the next page keeps it)."""
    jar = list(cookies or [])
    chosen = request.query_params.get(i18n.LANG_QUERY)
    if chosen == loc.language and request.cookies.get(i18n.LANG_COOKIE) != chosen:
        jar.append(Cookie(key=i18n.LANG_COOKIE, value=chosen, max_age=LANG_COOKIE_SECONDS,
                          path="/", samesite="lax", secure=is_secure(request)))
    return Template(
        template_name=template,
        context={"loc": loc, "static": static_url, "lang_links": language_links(request, loc),
                 "page_title": page_title, "email_pattern": EMAIL_PATTERN, **context},
        headers=PAGE_HEADERS,
        cookies=jar,
        status_code=status_code,
        media_type=MediaType.HTML,
    )


def script_json(value: dict[str, Any]) -> str:
    """JSON safe to put inside ``<script type="application/json">`` (no ``</script>``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
