"""Who is calling: the operator, an admitted visitor, or the holder of a booking token.

``operator_guard`` is a Litestar guard (guards get the connection, not dependencies, so it is
the one place that reads the process's services from ``app.state``). The other checks are
functions a handler calls with the services it was given.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from admitone.admission.services import AdmissionServices
from admitone.admission.tokens import AccessTokenClaims, BookingTokenClaims
from admitone.errors import OperatorAuthError, TokenInvalidError
from admitone.gateway.client import client_ip, in_networks
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


def restricted_guard(
    token_setting: str, allow_setting: str
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard for an operational route (``/metrics``, introspection): when the settings
    named set them, the client must be in the allowed networks (else 403) and send the bearer
    token (else 401). Neither set: the route is open, as before."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        settings = process_services(connection).settings
        networks: tuple[str, ...] = getattr(settings, allow_setting)
        if networks and not in_networks(client_ip(connection), networks):
            raise PermissionDeniedException("Your address may not use this route")
        expected: str | None = getattr(settings, token_setting)
        if expected is None:
            return
        scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), expected.encode()
        ):
            raise NotAuthorizedException("Send 'Authorization: Bearer <token>'",
                                         headers={"WWW-Authenticate": "Bearer"})

    return guard


metrics_guard = restricted_guard("metrics_token", "metrics_allow")
introspection_guard = restricted_guard("introspection_token", "introspection_allow")


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


# Where the guards below leave what they verified, in the request's own state.
_VERIFIED = "admitone_verified_token"
_CALLER = "admitone_booking_caller"


async def access_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Litestar guard of the routes that take an access token: it is checked (signature, expiry,
    revocation) before anything else, the body included, so a caller without one gets 401, never
    a validation error. The handler's :func:`require_access` then checks the show."""
    admission = process_services(connection).admission
    token = bearer_token(connection)
    await verified_access(admission, token, None, fail_open=_reads_only(connection))
    connection.state[_VERIFIED] = token


async def booking_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Litestar guard of the booking routes: an access token or a booking token, checked before
    anything else; :func:`booking_caller` returns what it found."""
    admission = process_services(connection).admission
    connection.state[_CALLER] = await _booking_claims(connection, admission)


async def require_access(
    connection: ASGIConnection[Any, Any, Any, Any], admission: AdmissionServices,
    show_id: str | None,
) -> AccessTokenClaims:
    """The caller's verified access token (``Authorization: Bearer``), revocation included, so
    a revoked visitor is stopped at once. After :func:`access_guard` only the show is left to
    check (the signature check is cached, revocation was asked once)."""
    token = bearer_token(connection)
    if connection.state.get(_VERIFIED) == token:
        return admission.tokens.verify_access_token(token, show_id)
    return await verified_access(admission, token, show_id, fail_open=_reads_only(connection))


async def _booking_claims(
    connection: ASGIConnection[Any, Any, Any, Any], admission: AdmissionServices
) -> AccessTokenClaims | BookingTokenClaims:
    """An access token, or a booking token that names its show: a revoked visitor's booking
    token is refused as its access tokens are."""
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


async def booking_caller(
    connection: ASGIConnection[Any, Any, Any, Any], admission: AdmissionServices
) -> AccessTokenClaims | BookingTokenClaims:
    """An access token, or a booking token from booking lookup (it names one booking)."""
    found = connection.state.get(_CALLER)
    if isinstance(found, AccessTokenClaims | BookingTokenClaims):
        return found
    return await _booking_claims(connection, admission)
