"""The sandbox payment gateway: a pretend payment service provider bundled with admitone.

It keeps its own books (``sandbox_charges``, ``sandbox_refunds``, migration 0003), shows the
fan a payment page, and — like a real provider — tells the booking core the outcome by a signed
webhook (``X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``). The webhook is delivered
in-process through ASGI, so it works without a network, with retries when the answer is not
2xx. Test controls make it late (``delay_seconds``), twice (``duplicate``) or never (``drop``).

It takes no money, so it is a development mode: served only with ADMITONE_SANDBOX_PAYMENTS=1
(``admitone up --demo`` and the tests turn it on). A real provider knows who pays because the
payer signs in or types a card; the sandbox stands in for that by asking for the fan's own
token (the access token or booking token that owns the payment's booking), so nobody who only
saw a payment id can pay or fail someone else's booking. Delayed deliveries wait in this
process, so there is a cap on how many may wait, per payment and in all (README, "Payments").
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec
import structlog

from admitone.booking_core.bookings import may_see
from admitone.booking_core.payments.charges import ChargeReport
from admitone.booking_core.payments.models import (
    CompleteIn,
    CompleteOut,
    DeliveryState,
    SandboxChargeOut,
)
from admitone.booking_core.payments.provider import ChargeStatus, RefundRejectedError
from admitone.booking_core.payments.signature import SIGNATURE_HEADER, signature_header
from admitone.booking_core.tokens import Caller
from admitone.db.sql import sql_folder
from admitone.errors import ConflictError, PaymentNotFoundError, SandboxDeliveriesFullError
from admitone.ids import uuid_or_none
from admitone.settings import Settings

sql = sql_folder("admitone.booking_core")

log = structlog.get_logger(__name__)

WEBHOOK_PATH = "/api/v1/payments/webhook"
AsgiApp = Callable[..., Coroutine[Any, Any, None]]
_encode = msgspec.json.Encoder(decimal_format="string").encode
# Delayed deliveries (``delaySeconds``) wait as tasks of this process for up to 600 s: at most
# this many per payment, and in all; beyond, the request is refused (429) and nothing changes.
MAX_SCHEDULED_PER_PAYMENT = 2
MAX_SCHEDULED = 200


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The body the sandbox posts to the webhook."""

    event_id: str
    payment_id: str
    status: str
    amount: Decimal
    currency: str
    gateway_transaction_id: str


def _uuid(payment_id: str) -> uuid.UUID | None:
    return uuid_or_none(payment_id)


class SandboxGateway:
    """Implements :class:`PaymentProvider` and the sandbox's own payment page actions."""

    name = "SANDBOX"

    def __init__(
        self, pool: asyncpg.Pool, settings: Settings, webhook_secret: str,
        *, retry_delays_seconds: tuple[float, ...] = (0.5, 2.0),
        max_scheduled_per_payment: int = MAX_SCHEDULED_PER_PAYMENT,
        max_scheduled: int = MAX_SCHEDULED,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.webhook_secret = webhook_secret
        self.retry_delays_seconds = retry_delays_seconds
        self.max_scheduled_per_payment = max_scheduled_per_payment
        self.max_scheduled = max_scheduled
        self._deliveries: set[asyncio.Task[int]] = set()
        self._scheduled: dict[str, int] = {}  # payment id → delayed deliveries waiting

    # PaymentProvider ------------------------------------------------------------------------

    async def create_charge(
        self, *, payment_id: str, amount: Decimal, currency: str, method: str, return_url: str
    ) -> str:
        """Record the charge once per payment id; return the page the fan pays on."""
        transaction_id = f"sbx_{secrets.token_hex(12)}"
        await self.pool.execute(
            sql("sandbox_create_charge"), uuid.UUID(payment_id), transaction_id, amount, currency,
            method, return_url,
        )
        return self.pay_url(payment_id)

    async def fetch_status(self, payment_id: str) -> ChargeStatus:
        pid = _uuid(payment_id)
        status = None if pid is None else await self.pool.fetchval(
            "SELECT status FROM sandbox_charges WHERE payment_id = $1", pid
        )
        if status == "SUCCESS":
            return "SUCCESS"
        if status == "FAILED":
            return "FAILED"
        if status == "PENDING":
            return "PENDING"
        return "UNKNOWN"

    async def fetch_charge(self, payment_id: str) -> ChargeReport:
        """The charge with what it took (``ReportsCharges``): reconciliation settles a lost
        webhook with the amount and currency, as a success without them confirms nothing."""
        pid = _uuid(payment_id)
        row = None if pid is None else await self.pool.fetchrow(sql("sandbox_charge"), pid)
        if row is None:
            return ChargeReport("UNKNOWN")
        status = await self.fetch_status(payment_id)
        return ChargeReport(status, amount=row["amount"], currency=row["currency"].strip(),
                            transaction_id=row["transaction_id"])

    async def refund(self, *, payment_id: str, refund_id: str, amount: Decimal) -> None:
        """Refund a paid charge, once per refund id; never more than was paid."""
        pid, rid = _uuid(payment_id), _uuid(refund_id)
        if pid is None or rid is None:
            raise RefundRejectedError("payment and refund ids must be UUIDs")
        async with self.pool.acquire() as conn, conn.transaction():
            charge = await conn.fetchrow(sql("sandbox_refund_charge"), pid)
            if charge is None:
                raise RefundRejectedError(f"no charge for payment {payment_id}")
            done = await conn.fetchrow(
                "SELECT payment_id FROM sandbox_refunds WHERE refund_id = $1", rid
            )
            if done is not None:
                if done["payment_id"] != pid:
                    raise RefundRejectedError(f"refund {refund_id} belongs to another charge")
                return
            if charge["status"] != "SUCCESS":
                raise RefundRejectedError(f"charge {payment_id} was not paid ({charge['status']})")
            if charge["refunded_amount"] + amount > charge["amount"]:
                raise RefundRejectedError(f"refund exceeds what is left of charge {payment_id}")
            await conn.execute(sql("sandbox_insert_refund"), rid, pid, amount)
        log.info("sandbox_refund_recorded", payment_id=payment_id, refund_id=refund_id)

    # The sandbox's own side ----------------------------------------------------------------

    def pay_url(self, payment_id: str) -> str:
        return f"{self.settings.base_url}/sandbox/pay/{payment_id}"

    async def charge(self, payment_id: str) -> SandboxChargeOut:
        """The charge as the gateway sees it (404 when it has none)."""
        pid = _uuid(payment_id)
        row = None if pid is None else await self.pool.fetchrow(sql("sandbox_charge"), pid)
        if row is None:
            raise PaymentNotFoundError(f"The sandbox has no charge for payment {payment_id[:64]!r}")
        return SandboxChargeOut(
            payment_id=str(row["payment_id"]), status=row["status"], amount=row["amount"],
            currency=row["currency"].strip(), method=row["method"],
            transaction_id=row["transaction_id"], refunded_amount=row["refunded_amount"],
            return_url=row["return_url"],
        )

    async def payment_owner(self, payment_id: str) -> tuple[str, str, str] | None:
        """(booking id, visitor id, show id) of the booking a payment pays for, or None."""
        pid = _uuid(payment_id)
        row = None if pid is None else await self.pool.fetchrow(sql("sandbox_payment_owner"), pid)
        if row is None:
            return None
        return str(row["booking_id"]), row["visitor_id"], str(row["show_id"])

    def scheduled(self, payment_id: str | None = None) -> int:
        """Delayed deliveries waiting in this process (for one payment, or in all)."""
        if payment_id is None:
            return sum(self._scheduled.values())
        return self._scheduled.get(payment_id, 0)

    def _reserve(self, payment_id: str) -> None:
        """Take a place for one delayed delivery, or refuse (429) when the caps are reached."""
        if self.scheduled(payment_id) >= self.max_scheduled_per_payment:
            raise SandboxDeliveriesFullError(
                f"This payment already has {self.max_scheduled_per_payment} delayed deliveries "
                "waiting; wait for them or complete it without delaySeconds",
                retry_after_seconds=5, paymentId=payment_id,
                limit=self.max_scheduled_per_payment,
            )
        if self.scheduled() >= self.max_scheduled:
            raise SandboxDeliveriesFullError(
                f"The sandbox has {self.max_scheduled} delayed deliveries waiting; try later",
                retry_after_seconds=5, limit=self.max_scheduled,
            )
        self._scheduled[payment_id] = self._scheduled.get(payment_id, 0) + 1

    def _release(self, payment_id: str) -> None:
        left = self._scheduled.get(payment_id, 0) - 1
        if left > 0:
            self._scheduled[payment_id] = left
        else:
            self._scheduled.pop(payment_id, None)

    async def complete(
        self, app: AsgiApp, payment_id: str, request: CompleteIn, caller: Caller
    ) -> CompleteOut:
        """Finish the charge with ``request.outcome`` and deliver the signed webhook to ``app``.

        Only the fan who made the booking (``caller``: its access token, or a booking token
        naming it) may; anyone else is told the payment does not exist (404). A delayed
        delivery beyond the caps is refused (429) before the charge changes."""
        owner = await self.payment_owner(payment_id)
        if owner is None or not may_see(caller, uuid.UUID(owner[0]), owner[1]):
            raise PaymentNotFoundError(f"The sandbox has no charge for payment {payment_id[:64]!r}")
        pid = uuid.UUID(payment_id)  # the owner was found by it: a UUID
        key = str(pid)
        delayed = request.delay_seconds > 0 and not request.drop
        if delayed:
            self._reserve(key)
        try:
            row = await self.pool.fetchrow(sql("sandbox_complete_charge"), pid, request.outcome)
        except BaseException:
            if delayed:
                self._release(key)
            raise
        if row is None:
            if delayed:
                self._release(key)
            await self.charge(payment_id)  # 404 when the charge is unknown
            raise ConflictError("This charge is already paid", paymentId=payment_id)
        event = WebhookEvent(
            event_id=f"evt_{secrets.token_hex(12)}", payment_id=str(row["payment_id"]),
            status=row["status"], amount=row["amount"], currency=row["currency"].strip(),
            gateway_transaction_id=row["transaction_id"],
        )
        log.info("sandbox_charge_completed", payment_id=event.payment_id, outcome=event.status,
                 delay_seconds=request.delay_seconds, duplicate=request.duplicate,
                 drop=request.drop)
        copies = 2 if request.duplicate else 1
        body = _encode(event)

        def answer(delivery: DeliveryState, attempts: int) -> CompleteOut:
            return CompleteOut(payment_id=event.payment_id, status=event.status,
                               event_id=event.event_id, delivery=delivery, attempts=attempts)

        if request.drop:
            return answer("DROPPED", 0)
        if delayed:
            later = self._deliver_later(app, body, copies, request.delay_seconds)
            task = asyncio.create_task(later)
            self._deliveries.add(task)

            def done(finished: asyncio.Task[int]) -> None:
                self._deliveries.discard(finished)
                self._release(key)

            task.add_done_callback(done)
            return answer("SCHEDULED", 0)
        attempts, delivered = 0, True
        for _ in range(copies):
            tries, ok = await self.deliver(app, body)
            attempts += tries
            delivered = delivered and ok
        return answer("DELIVERED" if delivered else "UNDELIVERED", attempts)

    async def deliver(self, app: AsgiApp, body: bytes) -> tuple[int, bool]:
        """POST the signed webhook to ``app``, retrying with backoff while the answer is not
        2xx; return (attempts, delivered). Each attempt is signed afresh, as providers do."""
        attempts = 0
        for delay in (*self.retry_delays_seconds, None):
            attempts += 1
            headers = [
                (b"content-type", b"application/json"),
                (SIGNATURE_HEADER.lower().encode(),
                 signature_header(self.webhook_secret, int(time.time()), body).encode()),
            ]
            try:
                status = await post_in_process(app, self.settings.base_url, WEBHOOK_PATH,
                                               headers, body)
            except Exception as exc:  # noqa: BLE001 - a failed attempt is retried like a non-2xx
                log.warning("sandbox_webhook_attempt_failed", attempt=attempts, error=repr(exc))
            else:
                if 200 <= status < 300:  # noqa: PLR2004 - the 2xx range
                    return attempts, True
                log.warning("sandbox_webhook_rejected", attempt=attempts, status=status)
            if delay is not None:
                await asyncio.sleep(delay)
        log.error("sandbox_webhook_undelivered", attempts=attempts)
        return attempts, False

    async def _deliver_later(self, app: AsgiApp, body: bytes, copies: int, delay: float) -> int:
        await asyncio.sleep(delay)
        attempts = 0
        for _ in range(copies):
            attempts += (await self.deliver(app, body))[0]
        return attempts

    async def aclose(self) -> None:
        """Cancel deliveries still waiting (at shutdown)."""
        tasks = list(self._deliveries)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def post_in_process(
    app: AsgiApp, base_url: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> int:
    """POST ``body`` to ``path`` of the ASGI ``app`` in this process and return the status.

    The request goes through the whole app (middleware, the route's signature check, its
    problems), as from a peer on the loopback, without a client library's per-request cost
    (an httpx client over ``ASGITransport`` took ~210 µs of CPU per delivery to a trivial
    route, this ~30 µs, the route included). The answer's body is not kept: a webhook's
    sender reads its status only."""
    url = urlsplit(base_url)
    host = url.hostname or "127.0.0.1"
    port = url.port or (443 if url.scheme == "https" else 80)
    netloc = url.netloc.rsplit("@", 1)[-1].encode()
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": "POST", "scheme": url.scheme or "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", netloc), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 123), "server": (host, port), "extensions": {},
    }
    answered = asyncio.Event()
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.set()

    await app(scope, receive, send)
    answered.set()
    if not status:
        raise RuntimeError("the app answered no response")
    return status
