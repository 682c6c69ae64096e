"""Who may use the console, for its routes: the session guard, form-token checks, and the
answers when either fails (303 to sign-in; 403 for a bad form token).

The cryptography is in ``session.py``; spent form tokens and signed-out sessions are recorded
by ``BackOffice`` (PostgreSQL), so a replayed form or an old cookie changes nothing.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect, Template
from markupsafe import Markup

from admitone.booking_core.backoffice import BackOffice
from admitone.gateway import i18n
from admitone.gateway.client import client_ip
from admitone.gateway.guards import process_services as services
from admitone.gateway.operator import session as sessions
from admitone.gateway.operator import view
from admitone.gateway.rendering import render_page

LOGIN_PATH = "/admin/login"
FORM_TOKEN_FIELD = "csrfToken"  # noqa: S105 - the name of a form field, not a secret
_STATE_KEY = "operator_session"


class SignInRequiredError(Exception):
    """No valid console session: the caller is sent to the sign-in page."""


class FormTokenRejectedError(Exception):
    """A console form came without a valid, unspent form token."""


def _backoffice(connection: ASGIConnection[Any, Any, Any, Any]) -> BackOffice:
    found = services(connection).backoffice
    assert found is not None  # noqa: S101 - open_services always builds it
    return found


def signed_out_marker(session: sessions.OperatorSession) -> str:
    return f"signed-out:{session.sid}"


async def session_guard(connection: ASGIConnection[Any, Any, Any, Any],
                        handler: BaseRouteHandler) -> None:
    """Every console route but sign-in needs a live session cookie (signed under the current
    operator token, not expired, not signed out)."""
    if handler.opt.get("public"):
        return
    token = services(connection).operator_token
    found = sessions.read_session(token, connection.cookies.get(sessions.SESSION_COOKIE))
    if found is None or await _backoffice(connection).token_spent(signed_out_marker(found)):
        raise SignInRequiredError
    connection.state[_STATE_KEY] = found


def current_session(request: Request[Any, Any, Any]) -> sessions.OperatorSession:
    found: sessions.OperatorSession = request.state[_STATE_KEY]
    return found


def actor(request: Request[Any, Any, Any]) -> str:
    """How the audit log names the operator: the console session and the client's address."""
    ip = client_ip(request)
    return f"operator:{current_session(request).label}@{ip}"


def new_form_token(request: Request[Any, Any, Any]) -> str:
    return sessions.form_token(services(request).operator_token, current_session(request))


async def checked_form(request: Request[Any, Any, Any], *, spend: bool = True) -> FormMultiDict:
    """The posted form, once its form token is good for this session (and, with ``spend``,
    recorded as used); FormTokenRejectedError otherwise — before anything is changed."""
    form = await request.form()
    token = form.get(FORM_TOKEN_FIELD)
    text = token if isinstance(token, str) else None
    valid = sessions.form_token_valid(
        services(request).operator_token, current_session(request), text)
    if not valid or text is None:
        raise FormTokenRejectedError
    if spend and not await _backoffice(request).spend_form_token(text):
        raise FormTokenRejectedError
    if not spend and await _backoffice(request).token_spent(text):
        raise FormTokenRejectedError
    return form


def text_field(form: FormMultiDict, name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


def render(request: Request[Any, Any, Any], template: str, *, title: str,
           status_code: int = 200, **context: Any) -> Template:
    """A console page: the fan pages' base, plus the session's zone and a form-token maker."""
    loc = i18n.locale_for(request)
    session: sessions.OperatorSession | None = request.state.get(_STATE_KEY)

    def token() -> Markup:
        return Markup(  # noqa: S704 - the field name is ours, the token is base64url
            f'<input type="hidden" name="{FORM_TOKEN_FIELD}" value="{new_form_token(request)}">')

    return render_page(
        request, loc, f"operator/{template}", page_title=title, status_code=status_code,
        operator=session, token=token, local_time=view.local_time,
        **{"zone": session.tz if session else "UTC", **context})


def sign_in_redirect(_request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    return Redirect(LOGIN_PATH, status_code=303)


def form_token_rejected(request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    loc = i18n.locale_for(request)
    return render(request, "message.html", title=loc.t("op.csrf.title"), status_code=403,
                  heading=loc.t("op.csrf.title"), message=loc.t("op.csrf.body"), back="/admin")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    SignInRequiredError: sign_in_redirect,
    FormTokenRejectedError: form_token_rejected,
}
