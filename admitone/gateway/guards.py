"""Who is calling: the operator, an admitted visitor, or the holder of a booking token.

``operator_guard`` is a Litestar guard (guards get the connection, not dependencies, so it is
the one place that reads the process's services from ``app.state``). The other checks are
functions a handler calls with the services it was given.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from admitone.admission.services import AdmissionServices
from admitone.admission.tokens import AccessTokenClaims, BookingTokenClaims
from admitone.errors import OperatorAuthError, TokenInvalidError
from admitone.runtime import Services

# The OpenAPI security of routes that take an access token (or a booking token).
ACCESS_SECURITY: list[dict[str, list[str]]] = [{"accessToken": []}]
OPERATOR_SECURITY: list[dict[str, list[str]]] = [{"operatorToken": []}]


def process_services(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    """The process's services, for guards only (handlers get theirs as dependencies)."""
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
    expected = process_services(connection).operator_token
    header = connection.headers.get("authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise OperatorAuthError("Send 'Authorization: Bearer <operator token>'")


# Methods that only read: when revocations cannot be read at all (Redis and PostgreSQL both
# down), these let a valid token through; every other method (the booking core's writes: lock,
# extend, release, checkout, cancel) is refused with a 503 (admission/revocation.py).
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _reads_only(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return str(connection.scope.get("method", "GET")).upper() in _READS


async def verified_access(
    admission: AdmissionServices, token: str, show_id: str | None, *, fail_open: bool = False
) -> AccessTokenClaims:
    """The claims of a valid, unrevoked access token for ``show_id`` (any show when None).
    ``fail_open``: let it through when revocations cannot be read (reads only)."""
    claims = admission.tokens.verify_access_token(token, show_id)
    if await admission.revocations.is_revoked(claims, fail_open=fail_open):
        raise TokenInvalidError("This access token has been revoked")
    return claims


async def require_access(
    connection: ASGIConnection[Any, Any, Any, Any], admission: AdmissionServices,
    show_id: str | None,
) -> AccessTokenClaims:
    """The caller's verified access token (``Authorization: Bearer``), revocation included, so
    a revoked visitor is stopped at once."""
    return await verified_access(admission, bearer_token(connection), show_id,
                                 fail_open=_reads_only(connection))


async def booking_caller(
    connection: ASGIConnection[Any, Any, Any, Any], admission: AdmissionServices
) -> AccessTokenClaims | BookingTokenClaims:
    """An access token, or a booking token from booking lookup (it names one booking, and its
    show: a revoked visitor's booking token is refused as its access tokens are)."""
    token = bearer_token(connection)
    reads = _reads_only(connection)
    if not admission.tokens.is_booking_token(token):
        return await verified_access(admission, token, None, fail_open=reads)
    claims = admission.tokens.verify_booking_token(token)
    if not claims.show_id:
        if not reads:
            raise TokenInvalidError("This booking token is too old to change a booking; "
                                    "look the booking up again")
        return claims
    if await admission.revocations.is_revoked(claims, fail_open=reads):
        raise TokenInvalidError("This booking token has been revoked")
    return claims
