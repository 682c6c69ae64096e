"""Token introspection (RFC 7662 shape): online verification of an access token, revocation
included, for booking frontends that do not verify offline with the JWKS."""

from __future__ import annotations

from litestar import post

from admitone.admission.models import IntrospectIn, IntrospectOut
from admitone.admission.revocation import Revocations
from admitone.admission.tokens import TokenService
from admitone.errors import TokenInvalidError, TokenWrongShowError


@post("/api/v1/tokens/introspect", tags=["tokens"], status_code=200,
      summary="Is this access token active? (revocation included)")
async def introspect(
    data: IntrospectIn, tokens: TokenService, revocations: Revocations
) -> IntrospectOut:
    try:
        claims = tokens.verify_access_token(data.token)
    except (TokenInvalidError, TokenWrongShowError):
        return IntrospectOut(active=False)
    if await revocations.is_revoked(claims):
        return IntrospectOut(active=False)
    return IntrospectOut(active=True, show_id=claims.show_id, sub=claims.sub, exp=claims.exp)


ROUTES = [introspect]
