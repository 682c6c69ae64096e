"""The operator console's PostgreSQL side: lists for its forms, screens from a seat list, a
show's sales and seat holders, an operator's release of a stuck lock, the audit log, and the
single-use form tokens that guard its changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from admitone.booking_core import models as m
from admitone.booking_core.catalog import parse_uuid
from admitone.booking_core.layout_csv import SeatSpec
from admitone.booking_core.seat_events import SeatEvents
from admitone.db.sql import sql_folder
from admitone.errors import (
    ConflictError,
    InvalidRequestError,
    LockInCheckoutError,
    LockNotFoundError,
    NotFoundError,
    ShowNotFoundError,
)
from admitone.outages import translates

sql = sql_folder("admitone.booking_core")

# Spent form tokens older than any session are forgotten.
SPENT_TOKENS_KEPT = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Choice:
    """An id and the words a form's drop-down shows for it."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class ConsoleShow:
    id: str
    title: str
    show_time: datetime
    theater: str
    city: str
    timezone: str
    screen: str
    total_seats: int
    base_price: Decimal
    currency: str
    status: str
    room: str  # NONE, OFF, PAUSED, ON


@dataclass(frozen=True, slots=True)
class ShowSales:
    seats_available: int
    seats_locked: int
    seats_booked: int
    bookings: int
    pending: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class HeldSeat:
    """A seat as the operator sees it: state, and who holds it since when until when."""

    seat_id: str
    row: str
    number: int
    seat_type: str
    price: Decimal
    status: str  # AVAILABLE, LOCKED, EXPIRED (a lock past its time, not yet swept), BOOKED
    holder: str | None
    lock_id: str | None
    locked_since: datetime | None
    locked_until: datetime | None
    booking_reference: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    data: dict[str, Any]


def _room_state(row: asyncpg.Record) -> str:
    if row["room_enabled"] is None:
        return "NONE"
    if not row["room_enabled"]:
        return "OFF"
    return "PAUSED" if row["room_paused"] else "ON"


@translates("PostgreSQL")
class BackOffice:
    """Reads and writes of the operator console that the public catalog does not need."""

    def __init__(self, pool: asyncpg.Pool, seat_events: SeatEvents) -> None:
        self.pool = pool
        self.seat_events = seat_events

    # Lists for the set-up forms ------------------------------------------------------------

    async def movie_choices(self) -> list[Choice]:
        rows = await self.pool.fetch(
            "SELECT id, title, language FROM movies ORDER BY created_at DESC LIMIT 500")
        return [Choice(str(r["id"]), f"{r['title']} ({r['language']})") for r in rows]

    async def theater_choices(self) -> list[Choice]:
        rows = await self.pool.fetch(
            "SELECT id, name, city FROM theaters ORDER BY created_at DESC LIMIT 500")
        return [Choice(str(r["id"]), f"{r['name']}, {r['city']}") for r in rows]

    async def screen_choices(self) -> list[Choice]:
        rows = await self.pool.fetch(
            "SELECT sc.id, sc.name, sc.total_seats, t.name AS theater, t.city FROM screens sc"
            " JOIN theaters t ON t.id = sc.theater_id ORDER BY sc.created_at DESC LIMIT 500")
        return [Choice(str(r["id"]), f"{r['theater']}, {r['city']} — {r['name']}"
                       f" ({r['total_seats']})") for r in rows]

    async def theater_timezone(self, screen_id: str) -> str:
        """The time zone of the theater a screen is in (UTC for an unknown screen)."""
        zone = await self.pool.fetchval(
            "SELECT t.timezone FROM screens sc JOIN theaters t ON t.id = sc.theater_id"
            " WHERE sc.id = $1", parse_uuid(screen_id, "screen"))
        return str(zone or "UTC")

    async def shows(self) -> list[ConsoleShow]:
        return [_console_show(r) for r in await self.pool.fetch(sql("list_console_shows"), None)]

    async def show(self, show_id: str) -> ConsoleShow:
        rows = await self.pool.fetch(sql("list_console_shows"), parse_uuid(show_id, "show"))
        if not rows:
            raise ShowNotFoundError(f"No show has the id {show_id}")
        return _console_show(rows[0])

    # A screen from an explicit seat list (a CSV import) ------------------------------------

    async def create_screen_from_seats(
        self, theater_id: str, name: str, seats: list[SeatSpec]
    ) -> m.Screen:
        """A screen whose seats are exactly ``seats``, in one transaction (all or nothing)."""
        theater = parse_uuid(theater_id, "theater")
        if not seats:
            raise InvalidRequestError("A screen needs at least one seat")
        rows: dict[str, int] = {}
        for seat in seats:
            rows.setdefault(seat.row, len(rows))
        layout = {"source": "csv", "rows": [
            {"name": row, "seats": sum(1 for s in seats if s.row == row)} for row in rows]}
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM theaters WHERE id = $1", theater):
                raise NotFoundError(f"No theater has the id {theater_id}")
            screen_id = await conn.fetchval(
                "INSERT INTO screens (theater_id, name, total_seats, layout)"
                " VALUES ($1, $2, $3, $4::jsonb) RETURNING id",
                theater, name, len(seats), msgspec.json.encode(layout).decode())
            await conn.copy_records_to_table(
                "seats",
                records=[(screen_id, s.seat_id, s.row, rows[s.row], s.number, s.seat_type,
                          s.multiplier) for s in seats],
                columns=["screen_id", "seat_id", "row_name", "row_index", "seat_number",
                         "seat_type", "price_multiplier"])
        return m.Screen(id=str(screen_id), theater_id=theater_id, name=name,
                        total_seats=len(seats))

    # A show's sales and seats --------------------------------------------------------------

    async def sales(self, show_id: str) -> ShowSales:
        row = await self.pool.fetchrow(sql("show_sales"), parse_uuid(show_id, "show"))
        assert row is not None  # noqa: S101 - an aggregate always returns a row
        return ShowSales(seats_available=row["available"], seats_locked=row["locked"],
                         seats_booked=row["booked"], bookings=row["bookings"],
                         pending=row["pending"], revenue=Decimal(row["revenue"]))

    async def held_seats(self, show_id: str) -> list[HeldSeat]:
        rows = await self.pool.fetch(sql("operator_seat_map"), parse_uuid(show_id, "show"))
        return [HeldSeat(
            seat_id=r["seat_id"], row=r["row_name"], number=r["seat_number"],
            seat_type=r["seat_type"], price=r["price"], status=r["status"], holder=r["holder"],
            lock_id=str(r["lock_id"]) if r["lock_id"] else None, locked_since=r["locked_since"],
            locked_until=r["locked_until"], booking_reference=r["booking_reference"],
        ) for r in rows]

    async def release_lock(self, show_id: str, lock_id: str, actor: str) -> list[str]:
        """Free a fan's lock on the operator's word (a stuck hold); the seats freed. The release
        and its audit row commit together; a lock being paid for is refused."""
        show, lock = parse_uuid(show_id, "show"), parse_uuid(lock_id, "lock")
        async with self.pool.acquire() as conn, conn.transaction():
            holder = await conn.fetchval(
                "SELECT visitor_id FROM seat_locks WHERE id = $1 AND show_id = $2", lock, show)
            if holder is None:
                raise LockNotFoundError(f"Show {show_id} has no lock {lock_id}")
            row = await conn.fetchrow("SELECT * FROM admitone_release_lock($1, $2)", lock, holder)
            assert row is not None  # noqa: S101 - the function returns one row
            if row["outcome"] == "IN_CHECKOUT":
                raise LockInCheckoutError("These seats are being paid for", lockId=lock_id)
            if row["outcome"] == "CONVERTED":
                raise ConflictError("This lock has become a booking", lockId=lock_id)
            freed = list(row["seat_ids"] or [])
            await conn.execute(
                "INSERT INTO audit_log (actor, entity, entity_id, action, data)"
                " VALUES ($1, 'show', $2, 'LOCK_RELEASED', $3::jsonb)",
                actor, str(show), msgspec.json.encode(
                    {"lockId": lock_id, "holder": holder, "seatIds": freed}).decode())
        if freed:
            await self.seat_events.changed(str(show), "SEAT_RELEASED", freed)
        return freed

    # The audit log -------------------------------------------------------------------------

    async def audit(self, show_id: str | None, limit: int = 500) -> list[AuditEntry]:
        """Operator changes (rooms, shows, visitors), newest first; one show's when given."""
        show = str(parse_uuid(show_id, "show")) if show_id else None
        rows = await self.pool.fetch(sql("operator_audit"), show, limit)
        return [AuditEntry(
            id=r["id"], at=r["at"], actor=r["actor"], entity=r["entity"],
            entity_id=r["entity_id"], action=r["action"],
            data=msgspec.json.decode(r["data"]) if isinstance(r["data"], str) else r["data"],
        ) for r in rows]

    # Single-use form tokens ----------------------------------------------------------------

    async def token_spent(self, token: str) -> bool:
        """Whether a form token (or a signed-out session's marker) was recorded as used."""
        digest = hashlib.sha256(token.encode()).digest()
        return bool(await self.pool.fetchval(
            "SELECT true FROM operator_form_tokens WHERE token_hash = $1", digest))

    async def spend_form_token(self, token: str) -> bool:
        """Record a console form token as used; False if it was used before."""
        digest = hashlib.sha256(token.encode()).digest()
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                "INSERT INTO operator_form_tokens (token_hash) VALUES ($1)"
                " ON CONFLICT DO NOTHING RETURNING true", digest)
            if fresh and digest[0] == 0:  # about one spend in 256 forgets the old ones
                await conn.execute(
                    "DELETE FROM operator_form_tokens WHERE spent_at < now() - $1::interval",
                    SPENT_TOKENS_KEPT)
        return bool(fresh)


def _console_show(row: asyncpg.Record) -> ConsoleShow:
    return ConsoleShow(
        id=str(row["id"]), title=row["title"], show_time=row["show_time"], theater=row["theater"],
        city=row["city"], timezone=row["timezone"], screen=row["screen"],
        total_seats=row["total_seats"], base_price=row["base_price"],
        currency=row["currency"].strip(), status=row["status"], room=_room_state(row),
    )
