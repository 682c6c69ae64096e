"""The outbox worker: what a committed state change promised to tell the world.

Rows are claimed ``FOR UPDATE SKIP LOCKED`` in batches, so several workers share the table
without waiting on each other, and each row is delivered inside its own savepoint:

- ``booking.confirmed`` / ``booking.cancelled`` → an e-mail to the fan, sent over SMTP when
  ``ADMITONE_SMTP_URL`` is set; either way it is recorded in ``notifications`` (one row per
  outbox row; ``channel`` says ``smtp`` or ``recorded``).
- ``refund.requested`` → the refund sent to the payment gateway (idempotent per refund id) by
  the payment service's ``send_refund``, which marks it PROCESSED, or FAILED when the gateway
  refuses it for good; a gateway that cannot be reached leaves it PENDING and the row retries.
- ``identity.code`` → the one-time code that proves a fan's e-mail to a waiting room (one
  place per person), e-mailed and recorded like a booking e-mail.
- any other topic (funnel events such as ``booking.failed``) → logged for analytics, sent.

A failed delivery counts an attempt, keeps its error and waits ``backoff_seconds(attempts)``;
a row is never dropped. Delivery is at least once: a worker that dies after sending but before
committing sends that e-mail again.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
import zoneinfo
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import asyncpg
import structlog

from admitone.booking_core.booking_repository import BookingRepository, Connection
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.models import ShowDetails
from admitone.booking_core.tokens import BookingTokenSigner
from admitone.db.sql import sql_folder

log = structlog.get_logger(__name__)
sql = sql_folder("admitone.booking_core")

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 3600.0
_DELIVERY_TIMEOUT_SECONDS = 15.0
_ERROR_MAX_CHARS = 500
_EMAIL = re.compile(r"[^\s@<>\"']+@")  # an SMTP error may quote the address: not in logs
# The ticket link in a confirmation carries a booking token for that one booking, good until
# two days after the show (at least a day, at most a year): the fan opens the ticket from the
# e-mail at the venue, long after the access token and a lookup's token have expired.
LINK_AFTER_SHOW = timedelta(days=2)
LINK_MIN_SECONDS = 86_400
LINK_MAX_SECONDS = 366 * 86_400


def ticket_link_seconds(show_time: datetime, now: datetime) -> int:
    """How long the e-mailed ticket link's booking token lasts."""
    seconds = int((show_time + LINK_AFTER_SHOW - now).total_seconds())
    return max(LINK_MIN_SECONDS, min(LINK_MAX_SECONDS, seconds))


def backoff_seconds(attempts: int) -> float:
    """Wait after the ``attempts``-th failure: 5 s, 10 s, 20 s, … at most an hour."""
    exponent = min(max(attempts - 1, 0), 20)
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * float(2**exponent))


class OutboxPayloadError(Exception):
    """An outbox row names nothing deliverable; it stays, retried slowly, for an operator."""


class RefundNotSentError(Exception):
    """The gateway could not be reached; the refund is still PENDING."""


class RefundSender(Protocol):
    """Sends one PENDING refund to the gateway (``PaymentService`` is one)."""

    async def send_refund(self, refund_id: str) -> str:
        """The refund's status afterwards: PROCESSED, FAILED (refused for good), PENDING
        (gateway unreachable) or UNKNOWN (no such refund)."""
        ...


OutboxListener = Callable[[dict[str, Any]], Awaitable[object]]


class OutboxWorker:
    """Delivers due outbox rows; ``run_once`` is the periodic job."""

    def __init__(
        self, pool: asyncpg.Pool, catalog: CatalogService, refunds: RefundSender, *,
        base_url: str, smtp_url: str | None, smtp_from: str, batch_size: int = 20,
        time_budget_seconds: float = 30.0, tokens: BookingTokenSigner | None = None,
    ) -> None:
        self.pool = pool
        self.repository = BookingRepository(pool)
        self.catalog = catalog
        self.refunds = refunds
        self.base_url = base_url
        self.smtp_url = smtp_url
        self.smtp_from = smtp_from
        self.batch_size = batch_size
        self.time_budget_seconds = time_budget_seconds
        self.tokens = tokens  # signs the e-mailed ticket link; without it the link needs lookup
        self.listeners: dict[str, list[OutboxListener]] = {}

    async def run_once(self) -> int:
        """Deliver due rows batch by batch until none are due or the time budget is spent;
        return how many were delivered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.time_budget_seconds
        delivered = 0
        while True:
            sent, claimed = await self._run_batch(deadline)
            delivered += sent
            if claimed < self.batch_size or loop.time() >= deadline:
                return delivered

    async def _run_batch(self, deadline: float) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        sent = 0
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await self.repository.claim_outbox(conn, self.batch_size)
            for row in rows:
                if loop.time() >= deadline:
                    break  # left untouched, still due: the next run takes it
                try:
                    async with conn.transaction():  # a savepoint: a failure undoes only its own
                        payload = json.loads(row["payload"])
                        await self._deliver(conn, row["id"], row["topic"], payload)
                except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                    await self._record_failure(conn, row, exc)
                else:
                    await self.repository.mark_outbox_sent(conn, row["id"])
                    sent += 1
        return sent, len(rows)

    async def _record_failure(
        self, conn: Connection, row: asyncpg.Record, exc: Exception
    ) -> None:
        error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX_CHARS]
        wait = backoff_seconds(row["attempts"] + 1)
        await self.repository.mark_outbox_failed(conn, row["id"], error, wait)
        log.warning("outbox_delivery_failed", outbox_id=row["id"], topic=row["topic"],
                    attempts=row["attempts"] + 1, error=_EMAIL.sub("***@", error),
                    retry_in_seconds=wait)

    async def _deliver(
        self, conn: Connection, outbox_id: int, topic: str, payload: dict[str, Any]
    ) -> None:
        if topic in {"booking.confirmed", "booking.cancelled"}:
            booking = await self._send_booking_email(conn, outbox_id, topic, payload)
            # booking.confirmed rows written before it named the visitor, and booking.cancelled
            # rows, get show and visitor from the booking read for the e-mail.
            payload = {"showId": str(booking["show_id"]), "visitorId": booking["visitor_id"],
                       **payload}
        elif topic == "refund.requested":
            await self._send_refund(payload)
        elif topic == "identity.code":
            await self._send_identity_code(conn, outbox_id, payload)
        else:
            log.info("funnel_event", topic=topic, outbox_id=outbox_id,
                     booking_id=payload.get("bookingId"))
        await self._tell_listeners(topic, outbox_id, payload)

    # E-mail ----------------------------------------------------------------------------------

    async def _send_booking_email(
        self, conn: Connection, outbox_id: int, topic: str, payload: dict[str, Any]
    ) -> asyncpg.Record:
        """E-mail the fan about its booking; the booking as the e-mail told it."""
        booking = _uuid(payload.get("bookingId"), "bookingId")
        row = await self.repository.booking_view(booking, conn)
        if row is None:
            raise OutboxPayloadError(f"no booking {booking}")
        show = await self.catalog.show_details(str(row["show_id"]))
        link_token = None
        if topic == "booking.confirmed" and self.tokens is not None:
            link_token = self.tokens.issue_booking_token(
                booking_id=str(row["id"]), visitor_id=row["visitor_id"],
                ttl_seconds=ticket_link_seconds(show.show_time, row["now"]))
        subject, body = compose_email(topic, row, show, self.base_url, link_token=link_token)
        channel = "recorded"
        if self.smtp_url:
            async with asyncio.timeout(_DELIVERY_TIMEOUT_SECONDS):
                await self._send_smtp(row["email"], subject, body)
            channel = "smtp"
        await self.repository.add_notification(
            conn, outbox_id, channel=channel, recipient=row["email"], subject=subject, body=body
        )
        log.info("booking_email_sent", outbox_id=outbox_id, topic=topic, channel=channel,
                 booking_id=str(booking))
        return row

    async def send_identity_code(
        self, show_id: str, email: str, code: str, valid_minutes: int
    ) -> None:
        """Queue the one-time code that proves ``email`` to a show's waiting room."""
        payload = {"showId": show_id, "email": email, "code": code,
                   "validMinutes": valid_minutes}
        await self.pool.execute(sql("enqueue_identity_code"), json.dumps(payload))

    async def _send_identity_code(
        self, conn: Connection, outbox_id: int, payload: dict[str, Any]
    ) -> None:
        email, code = str(payload.get("email", "")), str(payload.get("code", ""))
        if not email or not code:
            raise OutboxPayloadError("identity.code needs email and code")
        show = await self.catalog.show_details(str(_uuid(payload.get("showId"), "showId")))
        subject = f"Your code for the {show.title} queue: {code}"
        body = (
            f"Your code is {code}. Enter it on the queue page within "
            f"{payload.get('validMinutes', 10)} minutes to keep one place in the queue.\n\n"
            "If you did not ask for it, ignore this message.\n"
        )
        channel = "recorded"
        if self.smtp_url:
            async with asyncio.timeout(_DELIVERY_TIMEOUT_SECONDS):
                await self._send_smtp(email, subject, body)
            channel = "smtp"
        await self.repository.add_notification(
            conn, outbox_id, channel=channel, recipient=email, subject=subject, body=body
        )
        log.info("identity_code_sent", outbox_id=outbox_id, channel=channel)

    async def _send_smtp(self, recipient: str, subject: str, body: str) -> None:
        assert self.smtp_url is not None  # noqa: S101 - checked by the caller
        url = urlsplit(self.smtp_url)
        secure = url.scheme == "smtps"
        message = EmailMessage()
        message["From"] = self.smtp_from
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.smtp_from.rpartition("@")[2] or None)
        message.set_content(body)
        await aiosmtplib.send(
            message, hostname=url.hostname or "localhost", port=url.port or (465 if secure else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=secure, timeout=_DELIVERY_TIMEOUT_SECONDS,
        )

    # Refunds ---------------------------------------------------------------------------------

    async def _send_refund(self, payload: dict[str, Any]) -> None:
        refund_id = str(_uuid(payload.get("refundId"), "refundId"))
        async with asyncio.timeout(_DELIVERY_TIMEOUT_SECONDS):
            status = await self.refunds.send_refund(refund_id)
        if status == "PENDING":
            raise RefundNotSentError(f"refund {refund_id} could not be sent to the gateway")
        if status == "UNKNOWN":
            raise OutboxPayloadError(f"no refund {refund_id}")
        if status == "FAILED":  # refused for good: the refund row and audit say so
            log.warning("refund_refused_by_gateway", refund_id=refund_id)
        else:
            log.info("refund_delivered", refund_id=refund_id, refund_status=status)

    # Listeners (other parts that act on a topic without booking_core knowing them) -----------

    def listen(self, topic: str, listener: OutboxListener) -> None:
        """Call ``listener(payload)`` after each delivery of ``topic`` (e.g. the waiting room
        frees a visitor's slot on ``booking.confirmed``). A booking topic's payload always
        names ``showId`` and ``visitorId``, so a listener needs no booking tables."""
        self.listeners.setdefault(topic, []).append(listener)

    async def _tell_listeners(self, topic: str, outbox_id: int, payload: dict[str, Any]) -> None:
        """Listeners are best effort: a failure is logged and does not send the row again."""
        for listener in self.listeners.get(topic, []):
            try:
                async with asyncio.timeout(_DELIVERY_TIMEOUT_SECONDS):
                    await listener(payload)
            except Exception as exc:  # noqa: BLE001 - a listener never fails the delivery
                log.warning("outbox_listener_failed", topic=topic, outbox_id=outbox_id,
                            error=repr(exc))


def _uuid(value: object, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise OutboxPayloadError(f"{name} {str(value)[:64]!r} is not a UUID") from None


def _local_time(show: ShowDetails) -> str:
    when: datetime = show.show_time
    try:
        zone = zoneinfo.ZoneInfo(show.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return when.astimezone(zone).strftime("%A %d %B %Y, %H:%M %Z")


def ticket_page_url(base_url: str, booking_id: str, link_token: str | None) -> str:
    """The ticket page (HTML, not the JSON API). The booking token rides in the fragment, which
    the browser keeps to itself: never sent to the server, kept in no access log, and
    ``static/js/ticket.js`` takes it out of the address bar at once."""
    url = f"{base_url}/bookings/{booking_id}"
    return f"{url}#token={link_token}" if link_token else url


def compose_email(
    topic: str, booking: asyncpg.Record | dict[str, Any], show: ShowDetails, base_url: str,
    *, link_token: str | None = None,
) -> tuple[str, str]:
    """Subject and plain-text body of a booking e-mail (pure: testable without a server)."""
    reference = booking["reference"]
    seats = ", ".join(booking["seat_ids"]) or "-"
    place = (f"{show.title}\n{_local_time(show)}\n{show.theater}, {show.screen}\n"
             f"{show.address}, {show.city}\nSeats: {seats}\n")
    if topic == "booking.confirmed":
        ticket = ticket_page_url(base_url, str(booking["id"]), link_token)
        subject = f"Your tickets for {show.title} - booking {reference}"
        body = (
            f"Your booking {reference} is confirmed.\n\n{place}"
            f"Amount paid: {booking['amount']} {booking['currency']}\n\n"
            f"Your e-ticket (open it on your phone at the venue): {ticket}\n"
            f"(This link opens booking {reference} for anyone who has it. You can also look "
            f"up booking {reference} with this e-mail address on \"Find a booking\": "
            f"{base_url}/my-booking)\n"
        )
    else:
        refund = booking["refund_amount"]
        subject = f"Booking {reference} cancelled"
        body = f"Your booking {reference} has been cancelled.\n\n{place}"
        if refund is not None:
            body += (f"\nRefund: {refund} {booking['currency']}, "
                     "on its way to your payment method.\n")
    return subject, body
