"""The verifiable pre-queue lottery, published: the commitment before the draw, the seed and
the drawn entries after it (``admitone verify-draw`` checks them)."""

from __future__ import annotations

from litestar import Response, get

from admitone.admission.models import DrawOut
from admitone.admission.services import AdmissionServices


@get(
    "/api/v1/queue/{show_id:str}/draw", tags=["queue"],
    summary="The pre-queue draw: its commitment, then its seed and entries (anyone may check)",
)
async def published_draw(show_id: str, admission: AdmissionServices) -> Response[DrawOut]:
    out = await admission.draws.published(show_id)
    # Before the draw the answer changes once (at startsAt); after it, never.
    max_age = 5 if out.status == "COMMITTED" else 3600
    return Response(out, headers={"Cache-Control": f"public, max-age={max_age}"})


ROUTES = [published_draw]
