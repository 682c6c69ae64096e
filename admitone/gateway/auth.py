"""Who is calling: the operator, an admitted visitor, or the holder of a booking token."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from admitone.admission.tokens import AccessTokenClaims, BookingTokenClaims
from admitone.errors import OperatorAuthError, TokenInvalidError
from admitone.runtime import Services


def services(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    """The process's services, built in the app's lifespan."""
    found: Services = connection.app.state.services
    return found


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalidError("Send 'Authorization: Bearer <accessToken>'")
    return token.strip()


def operator_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Litestar guard of the operator API: the operator token, compared in constant time."""
    expected = services(connection).operator_token
    header = connection.headers.get("authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise OperatorAuthError("Send 'Authorization: Bearer <operator token>'")


async def require_access(request: Request[Any, Any, Any], show_id: str | None) -> AccessTokenClaims:
    """The verified access token of the caller, for ``show_id`` when given (else any show).

    Revocation is checked too, so a revoked visitor is stopped at once.
    """
    state = services(request)
    claims = state.tokens.verify_access_token(bearer_token(request), show_id)
    if state.revocations is not None and await state.revocations.is_revoked(claims):
        raise TokenInvalidError("This access token has been revoked")
    return claims


async def booking_caller(request: Request[Any, Any, Any]) -> AccessTokenClaims | BookingTokenClaims:
    """An access token, or a booking token from booking lookup (CONTRACT.md)."""
    state = services(request)
    token = bearer_token(request)
    if state.tokens.is_booking_token(token):
        return state.tokens.verify_booking_token(token)
    return await require_access(request, None)
