"""Checkout: a seat lock becomes a PENDING booking and an INITIATED payment, once per
Idempotency-Key (a replay with the same key and body gets the first answer again).

The lock is extended to cover the payment window first, so seats cannot expire under a fan who
is paying: the payment times out after ``payment_timeout_seconds``, the lock lives
``lock_seconds`` from now, and settings refuse a payment timeout that is not shorter than the
lock (``tests/unit/test_settings.py``).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
import structlog

from admitone.booking_core import fraud
from admitone.booking_core.booking_repository import Connection
from admitone.booking_core.checkout_repository import (
    BuyerKeys,
    CheckoutRepository,
    NewCheckout,
)
from admitone.booking_core.live_stats import LiveStats
from admitone.booking_core.models import (
    CheckoutIn,
    CheckoutOut,
)
from admitone.booking_core.payments.provider import PaymentProvider
from admitone.booking_core.policy import email_key, instrument_key
from admitone.errors import (
    BuyerSeatLimitError,
    ConflictError,
    IdempotencyKeyMissingError,
    IdempotencyKeyReusedError,
    InvalidRequestError,
    LockExpiredError,
    LockNotFoundError,
)
from admitone.outages import translates

log = structlog.get_logger(__name__)
_encode = msgspec.json.Encoder(decimal_format="string").encode
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter


def new_reference() -> str:
    """A booking reference such as ``AO7K3F9QX2``: 10 characters, about 48 bits."""
    return "AO" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


@dataclass(frozen=True, slots=True)
class Charge:
    payment_id: str
    amount: Decimal
    currency: str
    method: str
    return_url: str
    show_id: str = ""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes


@translates("PostgreSQL")
class CheckoutService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        gateway: PaymentProvider,
        *,
        lock_seconds: int,
        payment_timeout_seconds: int,
        base_url: str,
        stats: LiveStats | None = None,
        max_seats_per_buyer: int | None = None,
        review_score: int = 0,
    ) -> None:
        self.pool = pool
        # The seat limit per e-mail and per instrument: the show's own per-visitor limit, and
        # never more than ``max_seats_per_buyer`` (None: the show's limit alone).
        self.max_seats_per_buyer = max_seats_per_buyer
        self.review_score = review_score
        self.gateway = gateway
        self.stats = stats
        self.lock_seconds = lock_seconds
        self.payment_timeout_seconds = payment_timeout_seconds
        self.base_url = base_url
        self.repository = CheckoutRepository()

    async def checkout(
        self, visitor_id: str, idempotency_key: str | None, request: CheckoutIn,
        network: str = "",
    ) -> StoredResponse:
        """Create the booking and payment once per key; a replay returns the first answer.
        ``network`` (``policy.lock_network`` of the client) is kept with the booking."""
        if not idempotency_key:
            raise IdempotencyKeyMissingError("Send an Idempotency-Key header with checkout")
        if len(idempotency_key) > 255:  # noqa: PLR2004 - a key is a UUID or similar
            raise InvalidRequestError("Idempotency-Key is longer than 255 characters")
        try:
            lock_id = uuid.UUID(request.lock_id)
        except ValueError:
            raise LockNotFoundError(f"No lock has the id {request.lock_id[:64]!r}") from None
        request_hash = hashlib.sha256(_encode(request)).hexdigest()
        started = time.perf_counter()
        async with self.pool.acquire() as conn, conn.transaction():
            if not await self.repository.claim_idempotency_key(
                conn, visitor_id, idempotency_key, request_hash
            ):
                return await self._replay(conn, visitor_id, idempotency_key, request_hash)
            stored, charge = await self._create_booking(
                conn, visitor_id, lock_id, request, (idempotency_key, network)
            )
        if self.stats is not None:  # the operator console's figures and funnel
            self.stats.count(charge.show_id, "checkouts")
            self.stats.observe(charge.show_id, "checkout", time.perf_counter() - started)
            self.stats.visit(charge.show_id, "checkout", [visitor_id])
        # The charge is registered after commit: a gateway that is down leaves the payment
        # INITIATED, and reconciliation fails it once its window has passed.
        try:
            await self.gateway.create_charge(
                payment_id=charge.payment_id,
                amount=charge.amount,
                currency=charge.currency,
                method=charge.method,
                return_url=charge.return_url,
            )
        except Exception as exc:  # noqa: BLE001 - any gateway failure is settled by reconciliation
            log.warning("charge_not_registered", payment_id=charge.payment_id, error=str(exc))
        return stored

    async def _replay(
        self, conn: Connection, visitor_id: str, key: str, request_hash: str
    ) -> StoredResponse:
        row = await self.repository.stored_response(conn, visitor_id, key)
        assert row is not None  # noqa: S101 - the conflicting row is committed
        if row["request_hash"] != request_hash:
            raise IdempotencyKeyReusedError(
                "This Idempotency-Key was used with a different request body", idempotencyKey=key
            )
        return StoredResponse(row["status_code"], row["response"].encode())

    async def _create_booking(
        self, conn: Connection, visitor_id: str, lock_id: uuid.UUID, request: CheckoutIn,
        key_and_network: tuple[str, str],
    ) -> tuple[StoredResponse, Charge]:
        idempotency_key, network = key_and_network
        # Nine round trips in all (BEGIN, the key, these two, the buyer's locks and facts,
        # the extension, the inserts, COMMIT): each statement folds what used to be several,
        # since under a race every round trip of an open transaction waits its turn in the
        # event loop while the rows stay locked (bench/checkout_bench.py).
        seats = await self.repository.checkout_seats(conn, lock_id, visitor_id)
        lock = await self.repository.checkout_lock(conn, lock_id, visitor_id)
        if lock is None:
            raise LockNotFoundError(f"No lock {request.lock_id} is yours")
        live = lock["live_booking"]
        if live is not None:
            raise ConflictError(
                "A booking for this lock already exists", bookingId=str(live), lockId=str(lock_id)
            )
        now = lock["now"]
        held = [s for s in seats if s["lock_id"] == lock_id and s["locked_until"] > now]
        if (
            lock["status"] != "ACTIVE"
            or lock["expires_at"] <= now
            or len(held) != len(lock["seat_ids"])
        ):
            raise LockExpiredError(str(lock_id), lock["expires_at"])

        until = max(lock["expires_at"], now + timedelta(seconds=self.lock_seconds))
        buyer = BuyerKeys(email_key(request.email), instrument_key(request.payment_instrument),
                          network)
        facts = await self.repository.checkout_facts(
            conn, lock["show_id"], buyer, visitor_id,
            instrument=buyer.instrument or f"m:{request.payment_method}", now=now,
        )
        self._check_buyer_limit(lock, facts, len(held))
        risk = self._risk(facts, seats=len(held))
        await self.repository.extend_checkout_lock(
            conn, lock_id, until=until, now=now, show_id=lock["show_id"], seat_ids=lock["seat_ids"]
        )
        amount = sum((s["price"] for s in held), Decimal("0.00"))
        currency = lock["currency"].strip()
        booking_id, payment_id = uuid.uuid4(), uuid.uuid4()
        payment_expires = now + timedelta(seconds=self.payment_timeout_seconds)
        payment_url = self.gateway.pay_url(str(payment_id))
        body = _encode(CheckoutOut(
            booking_id=str(booking_id),
            status="PENDING",
            payment_id=str(payment_id),
            payment_url=payment_url,
            amount=amount,
            currency=currency,
            payment_expires_at=payment_expires,
        ))
        await self.repository.insert_checkout(conn, NewCheckout(
            booking_id=booking_id, payment_id=payment_id, reference=new_reference(),
            show_id=lock["show_id"], visitor_id=visitor_id, lock_id=lock_id,
            email=request.email, amount=amount, currency=currency, buyer=buyer, risk=risk,
            seats=[(s["seat_id"], s["price"]) for s in held], method=request.payment_method,
            payment_expires_at=payment_expires, gateway=self.gateway.name,
            idempotency_key=idempotency_key, audit={
                "lockId": str(lock_id), "paymentId": str(payment_id), "amount": amount,
                "lockExtendedTo": until, "riskScore": risk[0], "review": risk[2],
            }, status_code=201, body=body.decode(),
        ))
        charge = Charge(
            payment_id=str(payment_id),
            amount=amount,
            currency=currency,
            method=request.payment_method,
            return_url=f"{self.base_url}/bookings/{booking_id}",
            show_id=str(lock["show_id"]),
        )
        log.info("booking_pending", booking_id=str(booking_id), payment_id=str(payment_id),
                 risk_score=risk[0], review=risk[2])
        return StoredResponse(201, body), charge

    def _check_buyer_limit(self, lock: asyncpg.Record, facts: asyncpg.Record, seats: int) -> None:
        """Refuse a checkout that takes the e-mail's or the instrument's seats of the show
        past its limit: a new visitor per join must not buy more than one fan may."""
        limit = int(lock["max_seats_per_visitor"])
        if self.max_seats_per_buyer is not None:
            limit = min(limit, self.max_seats_per_buyer)
        by_email, by_instrument = int(facts["by_email"]), int(facts["by_instrument"])
        if by_email + seats > limit:
            raise BuyerSeatLimitError(limit, by_email, seats, "e-mail address")
        if by_instrument + seats > limit:
            raise BuyerSeatLimitError(limit, by_instrument, seats, "payment instrument")

    def _risk(
        self, row: asyncpg.Record, *, seats: int
    ) -> tuple[int, list[dict[str, Any]], bool]:
        """The checkout's risk score, its reasons, and whether it is held for review."""
        facts = fraud.CheckoutFacts(
            show_bookings_last_hour=int(row["show_bookings_last_hour"]),
            instruments_last_day=int(row["instruments_last_day"]),
            attempts_last_10_minutes=int(row["attempts_last_10_minutes"]),
            identity_age=row["identity_age"],
            seats=seats,
        )
        found = fraud.reasons(facts)
        risk = fraud.score(found)
        reasons = [{"signal": r.signal, "points": r.points, "detail": r.detail} for r in found]
        return risk, reasons, fraud.needs_review(risk, self.review_score)
