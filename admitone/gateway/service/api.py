"""Service routes: liveness, readiness, the public keys, token introspection, metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response, get, post

from admitone.admission.models import IntrospectIn, IntrospectOut
from admitone.admission.revocation import Revocations
from admitone.admission.tokens import TokenService
from admitone.errors import TokenInvalidError, TokenWrongShowError
from admitone.gateway.guards import introspection_guard
from admitone.gateway.metrics import metrics


@get("/healthz", tags=["service"], summary="Liveness", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["service"], summary="Readiness: PostgreSQL and Redis answer")
async def readyz(
    readiness: Callable[[], Awaitable[dict[str, bool]]],
) -> Response[dict[str, Any]]:
    answers = await readiness()
    checks = {name: "ok" if up else "down" for name, up in answers.items()}
    ready = all(answers.values())
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable", "checks": checks}
    if not ready:
        body["down"] = [name for name, value in checks.items() if value == "down"]
    return Response(body, status_code=200 if ready else 503)


@get("/.well-known/jwks.json", tags=["tokens"], summary="Public keys that verify access tokens")
async def jwks(tokens: TokenService) -> Response[dict[str, Any]]:
    return Response(tokens.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@post("/api/v1/tokens/introspect", tags=["tokens"], status_code=200,
      guards=[introspection_guard],
      summary="Is this access token active? (revocation included)",
      description="Open unless the deployment restricts it: with ADMITONE_INTROSPECTION_ALLOW "
      "a caller outside those networks gets 403, with ADMITONE_INTROSPECTION_TOKEN a caller "
      "without `Authorization: Bearer <that token>` gets 401.")
async def introspect(
    data: IntrospectIn, tokens: TokenService, revocations: Revocations
) -> IntrospectOut:
    """Online verification of an access token (the RFC 7662 shape), revocation included, for
    booking frontends that do not verify offline with the JWKS."""
    try:
        claims = tokens.verify_access_token(data.token)
    except (TokenInvalidError, TokenWrongShowError):
        return IntrospectOut(active=False)
    if await revocations.is_revoked(claims):
        return IntrospectOut(active=False)
    return IntrospectOut(active=True, show_id=claims.show_id, sub=claims.sub, exp=claims.exp)


ROUTES = [healthz, readyz, jwks, introspect, metrics]
