"""Tickets at the door, as JSON and JWS: what a venue's scanner asks (README, "Tickets at the
door").

``GET /api/v1/shows/{showId}/revoked-tickets`` is the show's list of revoked ticket ids, signed
under the JWKS keys (``application/jwt``), with an ``ETag`` that names its version: a scanner
caches it and asks again with ``If-None-Match`` (304 while nothing changed). ``POST
/api/v1/tickets/verify`` checks one scanned ticket online. Neither needs a token: a ticket is
already a signed credential, and neither answer carries a name, an e-mail or a reference.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)

from admitone.booking_core.tickets import (
    REVOCATION_MAX_AGE_SECONDS,
    TicketCheckIn,
    TicketCheckOut,
    TicketService,
)

JWT_MEDIA_TYPE = "application/jwt"
_LIST_EXAMPLE = (  # signed with a throwaway example key, not one of any server's
    "eyJhbGciOiJFZERTQSIsImtpZCI6IjlmTGQtbVRrcVVpRGpRU3BvbjNMMUd4UjR1ZFhlcl90Z2xoT1NFaEJvdm8iLC"
    "J0eXAiOiJhZG1pdG9uZS1yZXZvY2F0aW9ucytqd3QifQ.eyJpc3MiOiJhZG1pdG9uZSIsImF1ZCI6ImFkbWl0b25lL"
    "XZlbnVlLXJldm9jYXRpb25zIiwic2hvd0lkIjoiM2YyYTRiOGMtMWQ1ZS00YzdmLTlhMmItNmU4ZDBmMWMyYjNhIiw"
    "idmVyc2lvbiI6MiwicmV2b2tlZCI6WyI5YjJlNmMxYS03ZDNmLTVlOGItYTRjMi0xZjBkOWU4YjdhNjUiLCIwYzRmM"
    "mE5ZS0zYjFkLTVjN2UtOGY2YS0yZDliMWU0YzdhMzAiXSwiaWF0IjoxNzk2MjA1NjAwfQ.JhkzMpfYdfRENkNySyl-"
    "pX7F0f4tEmHsz6CvAcoHDHFt9q1jPFdRdvWrogWv1dsRlMMtaUHNchrK4OrgWcFtAw"
)


class _RevocationListOperation(Operation):
    """Documents the JWS body (Litestar would call a ``bytes`` answer a binary string)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert self.responses is not None  # noqa: S101 - the route declares its responses
        self.responses["200"] = OpenAPIResponse(
            description=(
                "Compact JWS (EdDSA, `kid` and `typ: admitone-revocations+jwt` in the header) of "
                "`{iss, aud: \"admitone-venue-revocations\", showId, version, revoked: [ticket "
                "ids], iat}`; version 0 and an empty list while nothing is revoked. Headers: "
                "`ETag` (this version under this key), `Cache-Control`."
            ),
            content={JWT_MEDIA_TYPE: OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, pattern=r"^[\w-]+\.[\w-]+\.[\w-]+$"),
                examples={"list": Example(summary="version 2, one revoked ticket",
                                          value=_LIST_EXAMPLE)},
            )},
        )


@get(
    "/api/v1/shows/{show_id:str}/revoked-tickets", tags=["tickets"],
    operation_class=_RevocationListOperation,
    summary="The show's revoked tickets, signed, for venue scanners to cache",
    description=(
        "A cancelled booking's ticket is on this list from the cancellation's commit, and the "
        "version goes up by one each time. Verify the JWS with `/.well-known/jwks.json` "
        "(audience `admitone-venue-revocations`), keep the highest version seen, and ask again "
        "with `If-None-Match: <ETag>`: 304 while it has not changed. Unknown show → 404."
    ),
    responses={
        304: ResponseSpec(data_container=None, generate_examples=False,
                          description="Not modified (If-None-Match)"),
    },
)
async def revoked_tickets(
    request: Request[Any, Any, Any], show_id: str, tickets: TicketService
) -> Response[bytes]:
    found = await tickets.revocation_list(show_id)
    headers = {
        "ETag": found.etag,
        "Cache-Control": f"public, max-age={REVOCATION_MAX_AGE_SECONDS}",
        "X-Revocation-List-Version": str(found.version),
    }
    asked = request.headers.get("if-none-match", "")
    if found.etag in {tag.strip() for tag in asked.split(",")} or asked.strip() == "*":
        return Response(b"", status_code=304, headers=headers)
    return Response(found.token.encode(), media_type=JWT_MEDIA_TYPE, headers=headers)


@post(
    "/api/v1/tickets/verify", tags=["tickets"], status_code=200,
    summary="Check a scanned ticket online: VALID, REVOKED, EXPIRED, WRONG_SHOW or INVALID",
    description=(
        "`{token, showId}`: the QR payload and the show the scanner admits to. The answer names "
        "the ticket id, its show, seats and `validUntil` (the show's end), nothing personal. "
        "REVOKED: the booking was cancelled (its seats may have been resold); EXPIRED: the "
        "show is over; WRONG_SHOW: a real ticket for another show; INVALID: not a ticket "
        "admitone signed. A malformed body is a 400 problem."
    ),
)
async def verify_ticket(data: TicketCheckIn, tickets: TicketService) -> TicketCheckOut:
    return await tickets.verify(data)


ROUTES = [revoked_tickets, verify_ticket]
