"""Service routes: liveness, readiness, public keys."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get

from admitone.gateway.auth import services


@get("/healthz", tags=["service"], summary="Liveness", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["service"], summary="Readiness: PostgreSQL and Redis answer")
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    state = services(request)

    async def postgres() -> bool:
        try:
            async with asyncio.timeout(2):
                await state.pool.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    async def redis() -> bool:
        try:
            async with asyncio.timeout(2):
                await state.redis.ping()
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    pg_ok, redis_ok = await asyncio.gather(postgres(), redis())
    checks = {"postgres": "ok" if pg_ok else "down", "redis": "ok" if redis_ok else "down"}
    ready = pg_ok and redis_ok
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable", "checks": checks}
    if not ready:
        body["down"] = [name for name, value in checks.items() if value == "down"]
    return Response(body, status_code=200 if ready else 503)


@get("/.well-known/jwks.json", tags=["tokens"], summary="Public keys that verify access tokens")
async def jwks(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    return Response(
        services(request).tokens.keys.jwks(), headers={"Cache-Control": "public, max-age=300"}
    )


ROUTES = [healthz, readyz, jwks]
