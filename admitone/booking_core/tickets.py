"""E-tickets at the door: ticket ids and expiry, each show's signed list of revoked tickets,
and the online check (README, "Tickets at the door").

A ticket is a compact JWS (``BookingTokenSigner.sign_ticket``) with ``jti`` (the ticket id) and
``exp`` (the end of its show), so a QR code is worthless once the show is over. A cancelled
booking's ticket goes on its show's revoked list in the cancellation's transaction
(``BookingService.cancel``), and the list's version goes up by one. A venue scanner that works
offline verifies the ticket's signature and expiry against the JWKS and looks its ``jti`` up in
the list it cached (``GET /api/v1/shows/{showId}/revoked-tickets``, itself a JWS under the same
keys, fetched again with ``If-None-Match``); one that can reach us asks
``POST /api/v1/tickets/verify``, which reads the booking itself.

The ticket id is derived from the booking id (UUID v5), so every download of one booking's ticket
carries the same id and one list entry revokes them all; it tells nothing of the booking to
someone who does not already know the booking id.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import asyncpg
import structlog
from msgspec import Meta

from admitone.booking_core.catalog import CatalogService, parse_uuid
from admitone.booking_core.models import Input, Output
from admitone.booking_core.tokens import BookingTokenSigner
from admitone.db.sql import sql_folder
from admitone.errors import TokenInvalidError
from admitone.ids import uuid_or_none
from admitone.outages import translates

sql = sql_folder("admitone.booking_core")
log = structlog.get_logger(__name__)

# The namespace of ticket ids: ticket id = uuid5(TICKET_NAMESPACE, booking id).
TICKET_NAMESPACE = uuid.UUID("6f1d3c52-8a4e-5b1f-9c57-2a0e7d4b9e61")
# What a CDN or scanner may keep without asking again; If-None-Match makes asking cheap.
REVOCATION_MAX_AGE_SECONDS = 10


def ticket_id(booking_id: str | uuid.UUID) -> str:
    """The ``jti`` of every ticket of ``booking_id``."""
    return str(uuid.uuid5(TICKET_NAMESPACE, str(booking_id)))


def ticket_expiry(show_time: datetime, duration_minutes: int) -> datetime:
    """A ticket is good until its show ends."""
    return show_time + timedelta(minutes=duration_minutes)


class TicketStatus(enum.StrEnum):
    """The online check's verdict."""

    VALID = "VALID"
    REVOKED = "REVOKED"  # the booking was cancelled (or is not CONFIRMED): the seat may be resold
    EXPIRED = "EXPIRED"  # the show is over
    WRONG_SHOW = "WRONG_SHOW"  # a real ticket, for another show than the scanner's
    INVALID = "INVALID"  # not a ticket admitone signed (forged, garbled, another kind of token)


def judge_ticket(
    *, ticket_show_id: str, scanner_show_id: str, booking_status: str, revoked: bool,
    expires_at: datetime, now: datetime,
) -> TicketStatus:
    """The verdict on a ticket whose signature holds: another show's ticket first (the scanner
    is at the wrong door), then revoked, then expired."""
    if ticket_show_id != scanner_show_id:
        return TicketStatus.WRONG_SHOW
    if revoked or booking_status != "CONFIRMED":
        return TicketStatus.REVOKED
    if now >= expires_at:
        return TicketStatus.EXPIRED
    return TicketStatus.VALID


class TicketCheckIn(Input, frozen=True):
    """``POST /api/v1/tickets/verify``: the scanned QR payload, and the show the scanner is at."""

    token: Annotated[str, Meta(min_length=1, max_length=8192)]
    show_id: Annotated[str, Meta(min_length=1, max_length=64)]


class TicketCheckOut(Output, frozen=True, omit_defaults=True):
    """The verdict, with only what a door needs: no name, e-mail, reference or visitor id."""

    status: TicketStatus
    ticket_id: str | None = None
    show_id: str | None = None
    seats: list[str] | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RevocationList:
    """A show's revoked tickets, signed: ``token`` is the body, ``etag`` names this version."""

    show_id: str
    version: int
    token: str
    etag: str


@translates("PostgreSQL")
class TicketService:
    """The revoked-ticket lists and the online ticket check."""

    def __init__(
        self, pool: asyncpg.Pool, catalog: CatalogService, tokens: BookingTokenSigner
    ) -> None:
        self.pool = pool
        self.catalog = catalog
        self.tokens = tokens

    async def revocation_list(self, show_id: str) -> RevocationList:
        """The show's signed list: ``{iss, aud, showId, version, revoked: [ticket ids], iat}``;
        version 0 with no ids (and no ``iat``) while nothing is revoked. An unknown show is
        404."""
        details = await self.catalog.show_details(show_id)  # 404 for an unknown show
        row = await self.pool.fetchrow(sql("revocation_list"), parse_uuid(details.id, "show"))
        payload: dict[str, Any] = {"showId": details.id, "version": 0, "revoked": []}
        if row is not None:
            # iat is when this version was made, so one version signs to the same text always.
            payload.update(version=int(row["version"]), revoked=list(row["ticket_ids"]),
                           iat=int(row["updated_at"].timestamp()))
        token = self.tokens.sign_revocation_list(payload)
        etag = f'"{hashlib.sha256(token.encode()).hexdigest()[:32]}"'
        return RevocationList(details.id, payload["version"], token, etag)

    async def verify(self, request: TicketCheckIn) -> TicketCheckOut:
        """The online check of a scanned ticket against what the database knows now."""
        claims = self._claims(request.token)
        booking = None if claims is None else uuid_or_none(claims.get("bookingId"))
        if claims is None or booking is None:
            return TicketCheckOut(status=TicketStatus.INVALID)
        tid = ticket_id(booking)
        jti = claims.get("jti")
        if jti is not None and jti != tid:
            return TicketCheckOut(status=TicketStatus.INVALID)
        row = await self.pool.fetchrow(sql("ticket_standing"), booking, uuid.UUID(tid))
        if row is None or str(row["show_id"]) != str(claims.get("showId")):
            return TicketCheckOut(status=TicketStatus.INVALID)
        expires_at: datetime = row["ends_at"]
        if isinstance(claims.get("exp"), int):  # never later than the ticket itself says
            expires_at = min(expires_at, datetime.fromtimestamp(claims["exp"], expires_at.tzinfo))
        status = judge_ticket(
            ticket_show_id=str(row["show_id"]), scanner_show_id=_canonical(request.show_id),
            booking_status=row["status"], revoked=row["revoked"], expires_at=expires_at,
            now=row["now"],
        )
        log.info("ticket_checked", ticket_id=tid, status=status.value)
        seats = claims.get("seats")
        return TicketCheckOut(
            status=status, ticket_id=tid, show_id=str(row["show_id"]),
            seats=[str(s) for s in seats] if isinstance(seats, list) else None,
            valid_until=expires_at.replace(microsecond=0),
        )

    def _claims(self, token: str) -> dict[str, Any] | None:
        try:
            return self.tokens.verify_ticket(token)
        except TokenInvalidError:
            return None


def _canonical(show_id: str) -> str:
    """A show id as the database spells it (any UUID spelling), or as given."""
    found = uuid_or_none(show_id)
    return show_id if found is None else str(found)

