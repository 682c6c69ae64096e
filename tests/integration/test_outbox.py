"""The outbox worker: e-mails recorded or sent over SMTP, refunds made, failures retried."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest

from admitone.booking_core.outbox import OutboxWorker, backoff_seconds, ticket_link_seconds
from admitone.runtime import Services
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import BookingFixture, confirmed_booking


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = 0

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                self.messages.append(message_from_bytes(data))
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SmtpSink]:
        server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def worker(services: Services, smtp_url: str | None = None) -> OutboxWorker:
    return OutboxWorker(
        services.pool,
        services.catalog,
        services.payments,
        base_url=services.settings.base_url,
        smtp_url=smtp_url,
        smtp_from="tickets@admitone.test",
        tokens=services.tokens,
    )


async def _outbox_row(services: Services, booking: BookingFixture, topic: str) -> dict[str, object]:
    row = await services.pool.fetchrow(
        "SELECT id, attempts, last_error, sent_at, next_try_at - clock_timestamp() AS wait"
        " FROM outbox WHERE topic = $1 AND payload->>'bookingId' = $2",
        topic,
        booking.id,
    )
    assert row is not None, topic
    return dict(row)


async def _notification(services: Services, outbox_id: object) -> dict[str, object] | None:
    row = await services.pool.fetchrow(
        "SELECT channel, recipient, subject, body FROM notifications WHERE outbox_id = $1",
        outbox_id,
    )
    return dict(row) if row else None


async def test_confirmation_is_recorded_as_a_notification(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Without SMTP, a confirmed booking's e-mail lands in notifications with reference, show,
    seats and ticket link, and its outbox row is marked sent."""
    booking = await confirmed_booking(
        client, services, await make_show(), access_token, ["A1", "A2"]
    )
    await services.outbox.run_once()
    row = await _outbox_row(services, booking, "booking.confirmed")
    assert row["sent_at"] is not None
    note = await _notification(services, row["id"])
    assert note is not None
    assert note["channel"] == "recorded"
    assert note["recipient"] == booking.email
    assert booking.reference in str(note["subject"])
    body = str(note["body"])
    assert booking.reference in body
    assert "Seats: A1, A2" in body
    assert "Test Theater, Screen 1" in body
    assert "/api/v1/" not in body  # the link is the ticket page, not the JSON API


def _ticket_link(body: str) -> str:
    found = re.search(r"(http://admitone\.test/bookings/\S+)", body)
    assert found is not None, body
    return found.group(1)


async def test_confirmation_links_the_ticket_page_with_a_token_for_that_booking(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The e-mailed link opens the ticket page (HTML) and carries, in its fragment, a booking
    token that reads this booking and its ticket but no other booking."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["A1"])
    other = await confirmed_booking(client, services, show, access_token, ["A2"])
    await services.outbox.run_once()
    note = await _notification(
        services, (await _outbox_row(services, booking, "booking.confirmed"))["id"])
    assert note is not None
    link = _ticket_link(str(note["body"]))
    page_url, _, fragment = link.partition("#token=")
    assert page_url == f"http://admitone.test/bookings/{booking.id}"
    page = await client.get(page_url.removeprefix("http://admitone.test"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    read = await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(fragment))
    assert read.status_code == 200, read.text
    assert read.json()["reference"] == booking.reference
    ticket = await client.get(f"/api/v1/bookings/{booking.id}/ticket", headers=bearer(fragment))
    assert ticket.status_code == 200
    foreign = await client.get(f"/api/v1/bookings/{other.id}", headers=bearer(fragment))
    assert foreign.status_code == 404
    claims = services.tokens.verify_booking_token(fragment)
    assert claims.booking_id == booking.id
    # Good until two days after the show, for the e-mail opened at the venue.
    assert claims.exp - time.time() > 86_400


def test_ticket_link_lasts_until_two_days_after_the_show() -> None:
    """The link's token lasts until two days after the show, at least a day, at most a year."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert ticket_link_seconds(now + timedelta(days=5), now) == 7 * 86_400
    assert ticket_link_seconds(now - timedelta(days=30), now) == 86_400
    assert ticket_link_seconds(now + timedelta(days=900), now) == 366 * 86_400


async def test_booking_says_whether_the_ticket_was_emailed(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """``ticketEmailed`` is false before the e-mail is sent and when it was only recorded (no
    mail server), and true once it went out over SMTP."""
    show = await make_show()
    recorded = await confirmed_booking(client, services, show, access_token, ["A1"])

    async def emailed(found: BookingFixture) -> bool:
        answer = await client.get(f"/api/v1/bookings/{found.id}", headers=bearer(found.token))
        assert answer.status_code == 200
        flag: bool = answer.json()["ticketEmailed"]
        return flag

    assert await emailed(recorded) is False
    await services.outbox.run_once()
    assert await emailed(recorded) is False  # recorded only: no mail server
    mailed = await confirmed_booking(client, services, show, access_token, ["A2"])
    async with SmtpSink().running() as sink:
        await worker(services, f"smtp://127.0.0.1:{sink.port}").run_once()
    assert await emailed(mailed) is True


async def test_cancellation_email_names_the_refund(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A cancelled booking's e-mail says it is cancelled and how much comes back."""
    booking = await confirmed_booking(
        client, services, await make_show(starts_in=timedelta(hours=6)), access_token, ["A1"]
    )
    assert (
        await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    ).status_code == 200
    await services.outbox.run_once()
    note = await _notification(
        services, (await _outbox_row(services, booking, "booking.cancelled"))["id"]
    )
    assert note is not None
    assert note["subject"] == f"Booking {booking.reference} cancelled"
    assert "Refund: 100.00 INR" in str(note["body"])


async def test_email_is_sent_over_smtp_when_configured(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """With an SMTP URL the confirmation reaches the server once, addressed to the fan."""
    booking = await confirmed_booking(client, services, await make_show(), access_token)
    async with SmtpSink().running() as sink:
        await worker(services, f"smtp://127.0.0.1:{sink.port}").run_once()
    mine = [m for m in sink.messages if booking.reference in str(m["Subject"])]
    assert len(mine) == 1
    assert mine[0]["To"] == booking.email
    assert mine[0]["From"] == "tickets@admitone.test"
    assert booking.reference in mine[0].get_payload()  # type: ignore[operator]
    row = await _outbox_row(services, booking, "booking.confirmed")
    assert row["sent_at"] is not None
    assert (await _notification(services, row["id"]) or {}).get("channel") == "smtp"


async def test_failed_delivery_is_retried_with_backoff_and_never_lost(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """SMTP refusing connections leaves the row unsent with its error and a doubling wait; it is
    not retried before its time, and is delivered once the server answers."""
    booking = await confirmed_booking(client, services, await make_show(), access_token)
    failing = worker(services, f"smtp://127.0.0.1:{closed_port()}")
    await failing.run_once()
    row = await _outbox_row(services, booking, "booking.confirmed")
    assert (row["attempts"], row["sent_at"]) == (1, None)
    assert row["last_error"]
    assert timedelta(seconds=3) < row["wait"] <= timedelta(seconds=5)  # type: ignore[operator]
    assert await _notification(services, row["id"]) is None

    await failing.run_once()  # not due yet: untouched
    assert (await _outbox_row(services, booking, "booking.confirmed"))["attempts"] == 1

    await services.pool.execute("UPDATE outbox SET next_try_at = now() WHERE id = $1", row["id"])
    await failing.run_once()
    row = await _outbox_row(services, booking, "booking.confirmed")
    assert (row["attempts"], row["sent_at"]) == (2, None)
    assert timedelta(seconds=8) < row["wait"] <= timedelta(seconds=10)  # type: ignore[operator]

    await services.pool.execute("UPDATE outbox SET next_try_at = now() WHERE id = $1", row["id"])
    async with SmtpSink().running() as sink:
        await worker(services, f"smtp://127.0.0.1:{sink.port}").run_once()
    row = await _outbox_row(services, booking, "booking.confirmed")
    assert (row["attempts"], row["last_error"]) == (3, None)
    assert row["sent_at"] is not None
    assert [m["To"] for m in sink.messages if booking.reference in str(m["Subject"])] == [
        booking.email
    ]


async def test_refund_is_made_at_the_sandbox_gateway(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """refund.requested sends the refund to the sandbox gateway and marks it PROCESSED."""
    booking = await confirmed_booking(
        client, services, await make_show(starts_in=timedelta(hours=5)), access_token, ["A1", "A2"]
    )
    cancel = await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    refund_id = cancel.json()["refundId"]
    await services.outbox.run_once()
    refund = await services.pool.fetchrow(
        "SELECT status, processed_at, amount::text AS amount FROM refunds WHERE id = $1",
        uuid.UUID(refund_id),
    )
    assert refund is not None
    assert (refund["status"], refund["amount"]) == ("PROCESSED", "200.00")
    assert refund["processed_at"] is not None
    at_gateway = await services.pool.fetchval(
        "SELECT amount::text FROM sandbox_refunds WHERE refund_id = $1", uuid.UUID(refund_id)
    )
    assert at_gateway == "200.00"
    row = await _outbox_row(services, booking, "refund.requested")
    assert row["sent_at"] is not None
    view = (
        await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    ).json()
    assert view["refund"] == {"id": refund_id, "amount": "200.00", "status": "PROCESSED"}


async def test_unknown_booking_in_a_row_is_kept_for_an_operator(services: Services) -> None:
    """A row naming no booking fails, keeps its error and stays unsent: nothing is dropped."""
    missing = str(uuid.uuid4())
    outbox_id = await services.pool.fetchval(
        "INSERT INTO outbox (topic, payload) VALUES ('booking.confirmed', $1::jsonb) RETURNING id",
        f'{{"bookingId": "{missing}"}}',
    )
    await services.outbox.run_once()
    row = await services.pool.fetchrow(
        "SELECT attempts, last_error, sent_at FROM outbox WHERE id = $1", outbox_id
    )
    assert row is not None
    assert (row["attempts"], row["sent_at"]) == (1, None)
    assert missing in row["last_error"]


async def test_funnel_events_are_marked_sent(services: Services) -> None:
    """Topics without a delivery (funnel events like booking.failed) are sent and send nothing."""
    outbox_id = await services.pool.fetchval(
        "INSERT INTO outbox (topic, payload) VALUES ('booking.failed', '{\"reason\": \"x\"}')"
        " RETURNING id"
    )
    await services.outbox.run_once()
    assert await services.pool.fetchval("SELECT sent_at FROM outbox WHERE id = $1", outbox_id)
    assert await _notification(services, outbox_id) is None


async def test_two_workers_send_each_email_once(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Workers racing over the same rows skip each other's: every fan gets exactly one e-mail."""
    show = await make_show()
    bookings = [
        # six fans, six addresses (one address booking six times is held for fraud review)
        await confirmed_booking(client, services, show, access_token, [seat],
                                email=f"fan.{seat.lower()}@example.com")
        for seat in ("A1", "A2", "A3", "A4", "A5", "A6")
    ]
    async with SmtpSink().running() as sink:
        url = f"smtp://127.0.0.1:{sink.port}"
        racers = [worker(services, url) for _ in range(3)]
        for racer in racers:
            racer.batch_size = 2
        await asyncio.gather(*(racer.run_once() for racer in racers))
    subjects = [str(m["Subject"]) for m in sink.messages]
    for booking in bookings:
        assert sum(booking.reference in subject for subject in subjects) == 1


@pytest.mark.parametrize(
    ("attempts", "wait"), [(1, 5), (2, 10), (3, 20), (10, 2560), (11, 3600), (1000, 3600)]
)
def test_backoff_doubles_up_to_an_hour(attempts: int, wait: float) -> None:
    """The wait after the n-th failure is 5 s doubled n-1 times, capped at an hour."""
    assert backoff_seconds(attempts) == wait


async def test_booking_confirmed_tells_listeners_the_show_and_visitor(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """booking.confirmed carries showId and visitorId; a row written before it did reaches the
    listeners with both, taken from the booking the e-mail was written from."""
    show = await make_show()
    new = await confirmed_booking(client, services, show, access_token, ["A1"])
    old = await confirmed_booking(client, services, show, access_token, ["A2"])
    stored = json.loads(await services.pool.fetchval(
        "SELECT payload::text FROM outbox"
        " WHERE topic = 'booking.confirmed' AND payload->>'bookingId' = $1", new.id
    ))
    assert (stored["showId"], stored["visitorId"]) == (show.id, new.visitor)
    await services.pool.execute(
        "UPDATE outbox SET payload = payload - 'showId' - 'visitorId'"
        " WHERE topic = 'booking.confirmed' AND payload->>'bookingId' = $1", old.id
    )
    heard: list[dict[str, Any]] = []

    async def listener(payload: dict[str, Any]) -> None:
        heard.append(payload)

    delivery = worker(services)
    delivery.listen("booking.confirmed", listener)
    await delivery.run_once()
    told = {payload["bookingId"]: (payload["showId"], payload["visitorId"]) for payload in heard}
    assert told[new.id] == (show.id, new.visitor)
    assert told[old.id] == (show.id, old.visitor)
