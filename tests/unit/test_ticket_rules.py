"""Pure ticket rules: ticket ids, expiry at the show's end, and the door's verdict."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admitone.booking_core.tickets import TicketStatus, judge_ticket, ticket_expiry, ticket_id

SHOW = "3f2a4b8c-1d5e-4c7f-9a2b-6e8d0f1c2b3a"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@given(st.uuids())
def test_a_bookings_ticket_id_is_stable_and_not_the_booking_id(booking: uuid.UUID) -> None:
    """Every download of one booking's ticket has the same id, and it is not the booking id."""
    assert ticket_id(booking) == ticket_id(str(booking))
    assert ticket_id(booking) != str(booking)
    assert uuid.UUID(ticket_id(booking)).version == 5


def test_a_ticket_expires_when_its_show_ends() -> None:
    """Show time plus the movie's duration."""
    assert ticket_expiry(NOW, 150) == NOW + timedelta(minutes=150)


def _judge(**overrides: object) -> TicketStatus:
    values: dict[str, object] = {
        "ticket_show_id": SHOW, "scanner_show_id": SHOW, "booking_status": "CONFIRMED",
        "revoked": False, "expires_at": NOW + timedelta(hours=1), "now": NOW,
    }
    values.update(overrides)
    return judge_ticket(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("overrides", "expected"), [
    ({}, TicketStatus.VALID),
    ({"revoked": True}, TicketStatus.REVOKED),
    ({"booking_status": "CANCELLED"}, TicketStatus.REVOKED),
    ({"expires_at": NOW}, TicketStatus.EXPIRED),
    ({"scanner_show_id": "another-show"}, TicketStatus.WRONG_SHOW),
    ({"scanner_show_id": "another-show", "revoked": True}, TicketStatus.WRONG_SHOW),
    ({"revoked": True, "expires_at": NOW - timedelta(days=1)}, TicketStatus.REVOKED),
])
def test_the_door_verdict(overrides: dict[str, object], expected: TicketStatus) -> None:
    """Another show's ticket first, then revoked (or not CONFIRMED), then expired."""
    assert _judge(**overrides) is expected
