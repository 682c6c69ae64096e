"""Requests and answers of the waiting room's HTTP API: queue, operator and tokens (camelCase
JSON; the OpenAPI document at ``/schema/openapi.json`` is generated from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from admitone.admission.inventory import Chance
from admitone.emails import Email
from admitone.queue.models import QueueMode

Rate = Annotated[int, Meta(ge=1, le=1_000_000)]
Slots = Annotated[int, Meta(ge=1, le=10_000_000)]
Seconds = Annotated[int, Meta(ge=1, le=86_400)]
Bits = Annotated[int, Meta(ge=0, le=28)]
Moment = Annotated[datetime, Meta(tz=True)]


class WaitingRoomIn(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    """``PUT …/waiting-room``: the whole room. Besides the required fields, optional:
    ``paused``, ``failOpen`` (let fans straight through while Redis is down),
    ``abandonGraceSeconds`` (skip a fan that stopped polling this long),
    ``powDifficultyBits`` (proof of work asked on join; 0 = none) and ``identityRequired``
    (only fans with a verified identity may join: one identity, one place)."""

    enabled: bool
    release_rate_per_minute: Rate
    max_active: Slots
    session_seconds: Seconds
    queue_mode: QueueMode
    opens_at: Moment | None = None
    starts_at: Moment | None = None
    paused: bool = False
    fail_open: bool = False
    abandon_grace_seconds: Seconds = 60
    pow_difficulty_bits: Bits = 0
    identity_required: bool = False


class WaitingRoomPatch(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    """``PATCH …/waiting-room``: any subset of the room's fields (``null`` clears a time)."""

    enabled: bool | UnsetType = UNSET
    release_rate_per_minute: Rate | UnsetType = UNSET
    max_active: Slots | UnsetType = UNSET
    session_seconds: Seconds | UnsetType = UNSET
    queue_mode: QueueMode | UnsetType = UNSET
    opens_at: Moment | UnsetType | None = UNSET
    starts_at: Moment | UnsetType | None = UNSET
    paused: bool | UnsetType = UNSET
    fail_open: bool | UnsetType = UNSET
    abandon_grace_seconds: Seconds | UnsetType = UNSET
    pow_difficulty_bits: Bits | UnsetType = UNSET
    identity_required: bool | UnsetType = UNSET

    def changes(self) -> dict[str, object]:
        """The fields this patch sets, by attribute name."""
        return {
            name: value for name in self.__struct_fields__
            if (value := getattr(self, name)) is not UNSET
        }


class EtaErrorOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """How far the waits predicted at join were off, over the fans admitted: |actual -
    predicted| / actual wait (at least one second), in per cent, as the upper edge of a
    histogram bucket (1 % wide up to 30 %); null with no fan, or past 1000 %."""

    fans: int
    median_percent: float | None
    p90_percent: float | None


class RoomStats(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """``GET …/waiting-room/stats``."""

    status: str
    waiting: int
    active: int
    admitted_total: int
    abandoned_total: int
    admitted_through: int
    release_rate_per_minute: int
    observed_admissions_per_minute: float
    max_active: int
    session_seconds: int
    paused: bool
    enabled: bool
    merged_duplicates: int = 0  # second places of one identity merged into its first
    eta_error_at_join: EtaErrorOut | None = None  # since the room began
    eta_error_last_10_minutes: EtaErrorOut | None = None  # fans admitted in the last 10 minutes
    # The same of the worst answer each fan got (join and every status call: the farther of
    # the earliest and the latest admission any answer predicted), since the room began and
    # over the last 10 minutes.
    eta_error_any_answer: EtaErrorOut | None = None
    eta_error_any_answer_last_10_minutes: EtaErrorOut | None = None


# SOLD_OUT: no seat is free nor held; the queue resumes by itself if seats come back.
ProgressStatus = Literal["OPEN", "PREQUEUE", "PAUSED", "SOLD_OUT", "CLOSED"]
WaitingStatus = Literal["WAITING", "PREQUEUE", "SOLD_OUT", "ADMITTED"]
# Why a waiting fan's estimatedWaitSeconds is null: nothing is let in now, or places are not
# drawn yet.
NoEtaReason = Literal["PAUSED", "SOLD_OUT", "DRAW_PENDING"]


class ProgressOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """``GET /api/v1/queue/{showId}/progress``: the same for every fan."""

    status: ProgressStatus
    admitted_through: int
    total_in_queue: int
    observed_admissions_per_minute: float
    updated_at: datetime


class JoinOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """``POST …/join``. ``ticketNumber``, ``position`` and ``estimatedWaitSeconds`` are null in a
    random pre-queue (numbers are drawn at ``startsAt``; ``entryId`` names the fan's entry in
    that draw); an ADMITTED answer also carries the access token, and ``seatsLeft`` with
    ``fewSeatsLeft`` (fewer seats left than fans already choosing). A waiting fan's
    ``chance`` says how likely tickets are at that place; SOLD_OUT: nothing is left now, the
    place is kept in case seats come back."""

    status: WaitingStatus
    token: str
    ticket_number: int | None
    position: int | None
    total_in_queue: int
    estimated_wait_seconds: int | None
    access_token: str | None = None
    access_expires_at: datetime | None = None
    entry_id: str | None = None
    chance: Chance | None = None
    seats_left: int | None = None
    few_seats_left: bool | None = None
    estimated_wait_reason: NoEtaReason | None = None


class StatusOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """``GET …/status``: WAITING / PREQUEUE / SOLD_OUT with the place and its ``chance``, or
    ADMITTED with the access token (and ``seatsLeft``, ``fewSeatsLeft``); see ``JoinOut``."""

    status: WaitingStatus
    position: int | None = None
    total_in_queue: int | None = None
    estimated_wait_seconds: int | None = None
    ticket_number: int | None = None
    access_token: str | None = None
    access_expires_at: datetime | None = None
    entry_id: str | None = None
    chance: Chance | None = None
    seats_left: int | None = None
    few_seats_left: bool | None = None
    estimated_wait_reason: NoEtaReason | None = None


class DrawOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """``GET /api/v1/queue/{showId}/draw``: the pre-queue lottery of a RANDOM_PREQUEUE room.

    Before the draw (``status`` COMMITTED) only the commitment, SHA-256 of the secret seed.
    After it (DRAWN) also the seed (hex) and every entry id in drawn order: the entry at index
    i holds ticket ``firstTicket + i``. Check it with ``admitone verify-draw``."""

    show_id: str
    status: Literal["COMMITTED", "DRAWN"]
    commitment: str
    committed_at: datetime
    drawn_at: datetime | None = None
    seed: str | None = None
    first_ticket: int | None = None
    entries: list[str] | None = None
    algorithm: str | None = None


class ChallengeOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """``GET …/challenge``: find a nonce so that sha256(challenge + nonce) starts with
    ``difficultyBits`` zero bits; send both on join as ``X-PoW-Challenge`` / ``X-PoW-Nonce``."""

    challenge: str
    difficulty_bits: int
    expires_at: datetime
    algorithm: str = "sha256(challenge + nonce), leading zero bits"


class IdentityCodeIn(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    """``POST …/identity``: send a one-time code to this address."""

    email: Email


class IdentityVerifyIn(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    """``POST …/identity/verify``: the code that came by e-mail."""

    email: Email
    code: Annotated[str, Meta(min_length=1, max_length=12)]


class IdentityTokenOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A verified identity for this show's queue: send it on join as ``X-Identity-Token``."""

    identity_token: str


class IntrospectIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    token: Annotated[str, Meta(max_length=4096)]


class IntrospectOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """RFC 7662 shape: ``active`` and, for an active token, whose and for which show."""

    active: bool
    show_id: str | None = None
    sub: str | None = None
    exp: int | None = None
