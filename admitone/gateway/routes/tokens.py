"""Token introspection (RFC 7662 shape): online verification of an access token, revocation
included, for booking frontends that do not verify offline with the JWKS."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from admitone.admission.models import IntrospectIn, IntrospectOut
from admitone.errors import TokenInvalidError, TokenWrongShowError
from admitone.gateway.auth import services


@post("/api/v1/tokens/introspect", tags=["tokens"], status_code=200,
      summary="Is this access token active? (revocation included)")
async def introspect(request: Request[Any, Any, Any], data: IntrospectIn) -> IntrospectOut:
    state = services(request)
    try:
        claims = state.tokens.verify_access_token(data.token)
    except (TokenInvalidError, TokenWrongShowError):
        return IntrospectOut(active=False)
    if state.revocations is not None and await state.revocations.is_revoked(claims):
        return IntrospectOut(active=False)
    return IntrospectOut(active=True, show_id=claims.show_id, sub=claims.sub, exp=claims.exp)


ROUTES = [introspect]
