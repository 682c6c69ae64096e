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

import asyncpg
import msgspec
import structlog

from admitone.booking_core.booking_repository import Connection
from admitone.booking_core.checkout_repository import CheckoutRepository
from admitone.booking_core.live_stats import LiveStats
from admitone.booking_core.models import (
    CheckoutIn,
    CheckoutOut,
)
from admitone.booking_core.payments.provider import PaymentProvider
from admitone.errors import (
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
    ) -> None:
        self.pool = pool
        self.gateway = gateway
        self.stats = stats
        self.lock_seconds = lock_seconds
        self.payment_timeout_seconds = payment_timeout_seconds
        self.base_url = base_url
        self.repository = CheckoutRepository()

    async def checkout(
        self, visitor_id: str, idempotency_key: str | None, request: CheckoutIn
    ) -> StoredResponse:
        """Create the booking and payment once per key; a replay returns the first answer."""
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
                conn, visitor_id, lock_id, request, idempotency_key
            )
            await self.repository.store_response(
                conn, visitor_id, idempotency_key, stored.status_code, stored.body.decode()
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
        idempotency_key: str,
    ) -> tuple[StoredResponse, Charge]:
        lock = await self.repository.lock_owner(conn, lock_id)
        if lock is None or lock["visitor_id"] != visitor_id:
            raise LockNotFoundError(f"No lock {request.lock_id} is yours")
        seats = await self.repository.lock_checkout_seats(conn, lock_id)
        lock = await self.repository.lock_checkout_lock(conn, lock_id)
        assert lock is not None  # noqa: S101 - read above, never deleted
        live = await self.repository.live_booking_of_lock(conn, lock_id)
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
        await self.repository.extend_lock_seats(
            conn, lock_id, until=until, now=now, show_id=lock["show_id"], seat_ids=lock["seat_ids"]
        )
        await self.repository.extend_checkout_lock(conn, lock_id, until, now)
        amount = sum((s["price"] for s in held), Decimal("0.00"))
        currency = lock["currency"].strip()
        booking_id = await self.repository.insert_booking(
            conn, reference=new_reference(), show_id=lock["show_id"], visitor_id=visitor_id,
            lock_id=lock_id, email=request.email, amount=amount, currency=currency,
        )
        await self.repository.insert_booking_seats(
            conn, booking_id, lock["show_id"], [(s["seat_id"], s["price"]) for s in held]
        )
        payment_expires = now + timedelta(seconds=self.payment_timeout_seconds)
        payment_id = await self.repository.insert_payment(
            conn, booking_id, amount=amount, currency=currency, method=request.payment_method,
            expires_at=payment_expires, gateway=self.gateway.name,
            idempotency_key=idempotency_key,
        )
        await self.repository.add_audit(conn, visitor_id, ("booking", str(booking_id), "PENDING", {
            "lockId": str(lock_id), "paymentId": str(payment_id), "amount": amount,
            "lockExtendedTo": until,
        }))
        payment_url = self.gateway.pay_url(str(payment_id))
        body = CheckoutOut(
            booking_id=str(booking_id),
            status="PENDING",
            payment_id=str(payment_id),
            payment_url=payment_url,
            amount=amount,
            currency=currency,
            payment_expires_at=payment_expires,
        )
        charge = Charge(
            payment_id=str(payment_id),
            amount=amount,
            currency=currency,
            method=request.payment_method,
            return_url=f"{self.base_url}/bookings/{booking_id}",
            show_id=str(lock["show_id"]),
        )
        log.info("booking_pending", booking_id=str(booking_id), payment_id=str(payment_id))
        return StoredResponse(201, _encode(body)), charge
