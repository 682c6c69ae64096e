"""Payment settlement: what a payment outcome does to the payment, booking, seats and lock.

Every outcome — a webhook, or reconciliation asking the gateway — is settled by
:meth:`PaymentService.settle` in one transaction that takes its row locks in the one order every
writer follows: payments → bookings → show_seats (by seat_id) → seat_locks. The rules are in
:func:`decide_settlement`; this module reads, asks, and writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import asyncpg
import structlog

from admitone import observability
from admitone.booking_core.live_stats import LiveStats
from admitone.booking_core.payments.decisions import (
    ReportedStatus,
    Settlement,
    amount_matches,
    decide_settlement,
)
from admitone.booking_core.payments.models import WebhookIn
from admitone.booking_core.payments.provider import PaymentProvider, RefundRejectedError
from admitone.booking_core.payments.repository import Connection, PaymentRepository
from admitone.booking_core.review import hold_for_review
from admitone.booking_core.seat_events import SeatEvents
from admitone.errors import PaymentMismatchError
from admitone.ids import uuid_or_none
from admitone.outages import translates

log = structlog.get_logger(__name__)

# A refund the provider refuses is tried this many times (the outbox row that asked for it
# waits longer after each: 5 s, 10 s, 20 s, 40 s) before it is left FAILED for an operator.
MAX_REFUND_ATTEMPTS = 5
MismatchPolicy = Literal["reject", "refund"]

AuditEntry = tuple[str, str, str, dict[str, Any]]
# The ``outcome`` label of admitone_payments_total for each settlement.
_OUTCOMES = {
    Settlement.CONFIRM: "confirmed", Settlement.FAIL: "failed",
    Settlement.REFUND_SEATS_LOST: "refunded", Settlement.REFUND_MISMATCH: "refunded",
    Settlement.IGNORE: "ignored",
}


@dataclass(frozen=True, slots=True)
class SettleResult:
    """What one settlement did. ``action`` is None for a duplicate event or unknown payment."""

    payment_id: str
    action: Settlement | None
    duplicate: bool = False
    known: bool = True
    booking_id: str | None = None
    show_id: str | None = None
    booked_seats: list[str] = field(default_factory=list)
    freed_seats: list[str] = field(default_factory=list)
    refund_id: str | None = None


Row = Mapping[str, Any]


@dataclass(slots=True)
class _Held:
    """The rows of one settlement, held under lock."""

    payment: Row
    booking: Row
    lock: Row
    seats: list[Row]

    @classmethod
    def of(cls, row: asyncpg.Record) -> _Held:
        """From a row of ``admitone_settlement_hold`` (migration 0030) that held them."""
        return cls(
            payment={"id": row["pay_id"], "booking_id": row["pay_booking"],
                     "amount": row["pay_amount"], "currency": row["pay_currency"],
                     "status": row["pay_status"], "expires_at": row["pay_expires_at"],
                     "gateway_transaction_id": row["pay_transaction"]},
            booking={"id": row["bk_id"], "reference": row["bk_reference"],
                     "show_id": row["bk_show"], "visitor_id": row["bk_visitor"],
                     "lock_id": row["bk_lock"], "status": row["bk_status"],
                     "amount": row["bk_amount"], "currency": row["bk_currency"],
                     "review": row["bk_review"]},
            lock={"id": row["lk_id"], "status": row["lk_status"],
                  "expires_at": row["lk_expires_at"], "seat_ids": row["lk_seat_ids"],
                  "now": row["held_at"]},
            seats=[{"seat_id": seat, "status": status, "lock_id": lock, "locked_until": until}
                   for seat, status, lock, until in zip(
                       row["st_ids"], row["st_statuses"], row["st_lock_ids"],
                       row["st_locked_until"], strict=True)],
        )

    @property
    def now(self) -> datetime:
        now: datetime = self.lock["now"]
        return now

    def seats_held(self) -> bool:
        """The lock is active and holds every seat of the booking, unexpired."""
        lock_id = self.booking["lock_id"]
        return (
            bool(self.seats)
            and self.lock["status"] == "ACTIVE"
            and self.lock["expires_at"] > self.now
            and all(
                s["status"] == "LOCKED" and s["lock_id"] == lock_id and s["locked_until"] > self.now
                for s in self.seats
            )
        )

    def lock_alive(self) -> bool:
        """The lock is still active and unexpired (whatever became of the booking's seats)."""
        expires_at: datetime = self.lock["expires_at"]
        return self.lock["status"] == "ACTIVE" and expires_at > self.now

    def lock_end_status(self) -> str:
        return "EXPIRED" if self.lock["expires_at"] <= self.now else "RELEASED"


def _parse_payment_id(payment_id: str) -> uuid.UUID | None:
    return uuid_or_none(payment_id)


@translates("PostgreSQL")
class PaymentService:
    """Settles payments and sends refunds to the gateway."""

    def __init__(
        self, pool: asyncpg.Pool, gateway: PaymentProvider, seat_events: SeatEvents,
        stats: LiveStats | None = None, *, others: tuple[PaymentProvider, ...] = (),
    ) -> None:
        self.pool = pool
        self.stats = stats
        self.gateway = gateway  # the one new checkouts pay through
        # Every gateway by name: a payment is refunded and reconciled by the one that took it,
        # also after ADMITONE_PAYMENT_PROVIDER changed (``payments.gateway``).
        self.gateways = {g.name: g for g in (*others, gateway)}
        self.seat_events = seat_events
        self.repository = PaymentRepository(pool)

    async def handle_webhook(self, event: WebhookIn) -> SettleResult:
        """Settle a verified webhook once per event id (``paymentId:status`` when it has none)."""
        event_id = event.event_id or f"{event.payment_id}:{event.status}"
        result = await self.settle(
            event.payment_id, event.status, actor="webhook", event_id=event_id,
            transaction_id=event.gateway_transaction_id, amount=event.amount,
            currency=event.currency,
        )
        if not result.known:
            log.warning("webhook_payment_unknown", payment_id=event.payment_id[:64],
                        status=event.status)
        elif result.duplicate:
            log.info("webhook_duplicate", payment_id=event.payment_id, event_id=event_id)
        return result

    async def settle(
        self, payment_id: str, status: ReportedStatus, *, actor: str = "system",
        event_id: str | None = None, transaction_id: str | None = None,
        amount: Decimal | None = None, currency: str | None = None,
        failure_reason: str = "PAYMENT_FAILED", on_mismatch: MismatchPolicy = "reject",
        refund_now: bool = True, provider: str = "SANDBOX",
    ) -> SettleResult:
        """Apply the reported ``status`` to the payment in one transaction, then announce seat
        changes and send a refund if one was created. Safe to call any number of times.

        A success for another ``amount`` or ``currency`` than the payment's, or one that does
        not report them at all, raises
        :class:`PaymentMismatchError` with ``on_mismatch="reject"`` (the sandbox's webhook is
        answered 422 and nothing changes); with ``"refund"`` (a real provider has taken that
        money) the payment is flagged and refunded, never confirmed. ``refund_now=False``
        leaves the refund to the outbox worker, so a webhook is answered without waiting for
        the provider's refund API."""
        pid = _parse_payment_id(payment_id)
        if pid is None:
            return SettleResult(payment_id, None, known=False)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self.repository.settlement_hold(conn, pid, event_id, status, provider)
            if row is None:
                return SettleResult(payment_id, None, known=False)
            if row["duplicate"]:
                return SettleResult(payment_id, None, duplicate=True)
            held = _Held.of(row)
            payment = held.payment
            matches = status != "SUCCESS" or _amount_matches(payment, amount, currency)
            if not matches and on_mismatch == "reject":
                _raise_mismatch(payment, amount)
            action = decide_settlement(
                payment["status"], held.booking["status"], status, seats_held=held.seats_held(),
                amount_matches=matches,
            )
            audit: list[AuditEntry] = []
            if action is Settlement.REFUND_MISMATCH:
                audit.append(_flag_mismatch(payment, amount, currency))
            result = await self._apply(
                conn, held, action, actor=actor, transaction_id=transaction_id,
                failure_reason=failure_reason, audit=audit,
                refund_amount=_refund_amount(payment, amount, currency),
            )
            context = {"source": actor, "eventId": event_id, "reported": status}
            await self.repository.add_audit(
                conn, actor, [(e, i, a, {**context, **d}) for e, i, a, d in audit]
            )
        await self._after_commit(result, refund_now=refund_now)
        if result.show_id:
            observability.count_payment(result.show_id, _OUTCOMES[action])
        self._record(held.booking, action)
        log.info(
            "payment_settled", payment_id=payment_id, action=action.value, reported=status,
            source=actor, previous_status=payment["status"],
        )
        return result

    def _record(self, booking: Row, action: Settlement) -> None:
        """For the operator console: payments by outcome, sales and revenue per minute, and
        the fan in the funnel (paid; confirmed when the seats were still held)."""
        if self.stats is None or action is Settlement.IGNORE:
            return
        show, visitor = str(booking["show_id"]), [booking["visitor_id"]]
        if action is Settlement.FAIL:
            self.stats.count(show, "payments_failed")
            return
        self.stats.count(show, "payments_ok")
        self.stats.visit(show, "paid", visitor)
        if action is Settlement.CONFIRM:
            self.stats.count(show, "sales")
            self.stats.count(show, "revenue_minor", int(booking["amount"] * 100))
            self.stats.visit(show, "confirmed", visitor)

    async def _apply(
        self, conn: Connection, held: _Held, action: Settlement, *, actor: str,
        transaction_id: str | None, failure_reason: str, audit: list[AuditEntry],
        refund_amount: Decimal,
    ) -> SettleResult:
        payment, booking, now = held.payment, held.booking, held.now
        pid, bid = payment["id"], booking["id"]

        def done(**extra: Any) -> SettleResult:
            return SettleResult(str(pid), action, booking_id=str(bid),
                                show_id=str(booking["show_id"]), **extra)

        if action is Settlement.IGNORE:
            if payment["status"] in {"SUCCESS", "REFUNDED"}:
                log.info("payment_outcome_ignored", payment_id=str(pid), status=payment["status"])
            return done()
        show_id, lock_id = booking["show_id"], booking["lock_id"]
        ids = {"paymentId": str(pid), "bookingId": str(bid), "showId": str(show_id)}

        if action is Settlement.CONFIRM and booking["review"]:
            # Held for fraud review (booking_core/fraud.py): paid, seats BOOKED, no ticket yet.
            await self.repository.mark_payment(conn, pid, "SUCCESS", transaction_id, now)
            booked = await hold_for_review(conn, booking, held.lock["seat_ids"], now)
            audit += [
                ("payment", str(pid), "SUCCESS", {"transactionId": transaction_id}),
                ("booking", str(bid), "REVIEW", {"paymentId": str(pid), "seatIds": booked}),
                ("lock", str(lock_id), "CONVERTED", {"bookingId": str(bid), "seatIds": booked}),
            ]
            return done(booked_seats=booked)
        if action is Settlement.CONFIRM:
            await self.repository.mark_payment(conn, pid, "SUCCESS", transaction_id, now)
            booked = await self.repository.confirm(
                conn, bid, show_id=show_id, lock_id=lock_id, lock_seats=held.lock["seat_ids"],
                now=now, outbox_payload={
                    **ids, "visitorId": booking["visitor_id"],
                    "reference": booking["reference"], "amount": booking["amount"],
                    "currency": booking["currency"].strip(),
                })
            audit += [
                ("payment", str(pid), "SUCCESS", {"transactionId": transaction_id}),
                ("booking", str(bid), "CONFIRMED", {"paymentId": str(pid), "seatIds": booked}),
                ("lock", str(lock_id), "CONVERTED", {"bookingId": str(bid), "seatIds": booked}),
            ]
            return done(booked_seats=booked)

        freed: list[str] = []
        # A failed payment leaves the fan's hold as it is while its lock lasts, so checkout can
        # be tried again on the same seats (the lock may serve one live booking at a time, and
        # this one is now FAILED); the sweeper frees them at expiry like any lock. A late
        # success of a payment already failed keeps it too: a retry may be paying on it.
        keep_hold = held.lock_alive() and (
            action is Settlement.FAIL or booking["status"] == "FAILED")
        if not keep_hold:
            freed = await self.repository.free_seats(
                conn, show_id, lock_id, held.lock["seat_ids"], now)
            lock_status = held.lock_end_status()
            if await self.repository.mark_lock(conn, lock_id, lock_status, now):
                audit.append(
                    ("lock", str(lock_id), lock_status, {"bookingId": str(bid), "seatIds": freed})
                )
        if action is Settlement.FAIL:
            await self.repository.mark_payment(conn, pid, "FAILED", transaction_id, now)
            audit.append(("payment", str(pid), "FAILED", {"reason": failure_reason}))
            await self._fail_booking(conn, held, failure_reason, freed, ids=ids, audit=audit)
            return done(freed_seats=freed)

        # REFUND_SEATS_LOST: the money was taken, but the seats are not held for it any more.
        # REFUND_MISMATCH: the money taken is not what the booking costs; give back all of it.
        reason = "AMOUNT_MISMATCH" if action is Settlement.REFUND_MISMATCH else "SEATS_LOST"
        amount = refund_amount if action is Settlement.REFUND_MISMATCH else payment["amount"]
        await self.repository.mark_payment(conn, pid, "REFUNDED", transaction_id, now)
        refund = await self.repository.insert_refund(
            conn, pid, bid, amount, reason
        ) or await self.repository.refund_of(conn, pid)
        await self.repository.add_outbox(conn, "refund.requested", {
            **ids, "refundId": str(refund), "amount": amount,
            "currency": payment["currency"].strip(), "reason": reason,
        })
        audit += [
            ("payment", str(pid), "SUCCESS", {"transactionId": transaction_id}),
            ("payment", str(pid), "REFUNDED", {"refundId": str(refund), "reason": reason}),
            ("refund", str(refund), "REQUESTED",
             {"paymentId": str(pid), "amount": amount, "reason": reason}),
        ]
        await self._fail_booking(conn, held, reason, freed, ids=ids, audit=audit)
        log.warning("payment_refunded", payment_id=str(pid), booking_id=str(bid), reason=reason)
        return done(freed_seats=freed, refund_id=str(refund))

    async def _fail_booking(
        self, conn: Connection, held: _Held, reason: str, freed: list[str], *,
        ids: dict[str, str], audit: list[AuditEntry],
    ) -> None:
        bid = held.booking["id"]
        if await self.repository.fail_booking(conn, bid, held.now):
            await self.repository.add_outbox(conn, "booking.failed", {
                **ids, "reference": held.booking["reference"], "reason": reason,
            })
            audit.append(("booking", str(bid), "FAILED", {"reason": reason, "freedSeats": freed}))

    async def _after_commit(self, result: SettleResult, *, refund_now: bool = True) -> None:
        if result.show_id and result.booked_seats:
            await self.seat_events.changed(result.show_id, "SEAT_BOOKED", result.booked_seats)
        if result.show_id and result.freed_seats:
            await self.seat_events.changed(result.show_id, "SEAT_RELEASED", result.freed_seats)
        if result.refund_id and refund_now:
            await self.send_refund(result.refund_id)

    # Refunds -------------------------------------------------------------------------------

    async def send_refund(self, refund_id: str) -> str:
        """Send one PENDING refund to the gateway; return the refund's status afterwards.

        PENDING again when the gateway could not be reached, or refused it fewer than
        :data:`MAX_REFUND_ATTEMPTS` times: the outbox worker retries it, with backoff, from the
        ``refund.requested`` row written with the refund. A refund refused that many times is
        FAILED, with the provider's answer in ``last_error`` and an audit row, and is listed by
        the operator route ``GET /api/v1/admin/refunds?status=FAILED``."""
        row = await self.repository.refund_row(uuid.UUID(refund_id))
        if row is None:
            return "UNKNOWN"
        if row["status"] != "PENDING":
            return str(row["status"])
        try:
            await self._gateway_refund(row)
        except RefundRejectedError as exc:
            attempts = await self.repository.count_refund_attempt(row["id"], str(exc)[:500])
            if attempts < MAX_REFUND_ATTEMPTS:
                log.warning("refund_rejected_will_retry", refund_id=refund_id,
                            payment_id=str(row["payment_id"]), attempts=attempts, error=str(exc))
                return "PENDING"
            log.error(  # noqa: TRY400 - a refusal is an answer, not a crash: no traceback
                "refund_rejected", refund_id=refund_id, payment_id=str(row["payment_id"]),
                attempts=attempts, error=str(exc),
            )
            await self._mark_refund(
                row["id"], "FAILED", {"error": str(exc)[:500], "attempts": attempts}
            )
            return "FAILED"
        except Exception as exc:  # noqa: BLE001 - any other gateway failure is retried later
            await self.repository.count_refund_attempt(row["id"], repr(exc)[:500])
            log.warning("refund_not_sent", refund_id=refund_id, error=repr(exc))
            return "PENDING"
        await self._mark_refund(row["id"], "PROCESSED", {"amount": row["amount"]})
        log.info("refund_processed", refund_id=refund_id, payment_id=str(row["payment_id"]))
        return "PROCESSED"

    async def _gateway_refund(self, row: asyncpg.Record) -> None:
        gateway = self.gateway_for(row["gateway"])
        if gateway is None:  # an operator must give this process that provider's keys
            raise RefundRejectedError(f"no {row['gateway']} gateway is configured here")
        await gateway.refund(
            payment_id=str(row["payment_id"]), refund_id=str(row["id"]), amount=row["amount"]
        )

    def gateway_for(self, name: str | None) -> PaymentProvider | None:
        """The gateway that took a payment; None when this process has no keys for it."""
        return self.gateways.get(name or "")

    async def _mark_refund(self, refund_id: uuid.UUID, status: str, data: dict[str, Any]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self.repository.mark_refund(conn, refund_id, status)
            if row is not None:
                ids = {"paymentId": str(row["payment_id"]), "bookingId": str(row["booking_id"])}
                await self.repository.add_audit(
                    conn, "refund_sender", [("refund", str(refund_id), status, {**ids, **data})]
                )


def _amount_matches(
    payment: Row, amount: Decimal | None, currency: str | None
) -> bool:
    """A success must say it took what was asked: no amount, another amount or another
    currency confirms nothing (``decisions.amount_matches``)."""
    return amount_matches(payment["amount"], payment["currency"], amount, currency)


def _refund_amount(
    payment: Row, amount: Decimal | None, currency: str | None
) -> Decimal:
    """What to give back of a mismatched success: what was taken when it is in the payment's
    currency, else the payment's amount as the record (the provider refunds the whole capture,
    see ``RazorpayGateway.refund`` and ``StripeGateway.refund``)."""
    same_currency = currency is None or currency.upper() == payment["currency"].strip()
    if amount is not None and same_currency:
        return amount
    refund: Decimal = payment["amount"]
    return refund


def _flag_mismatch(
    payment: Row, amount: Decimal | None, currency: str | None
) -> AuditEntry:
    """The audit row of a mismatched success that is refunded instead of confirmed."""
    expected_currency = payment["currency"].strip()
    log.error("payment_amount_mismatch", payment_id=str(payment["id"]),
              expected=str(payment["amount"]), reported=str(amount),
              expected_currency=expected_currency, reported_currency=currency)
    return ("payment", str(payment["id"]), "FLAGGED", {
        "reason": "AMOUNT_MISMATCH", "expectedAmount": payment["amount"],
        "expectedCurrency": expected_currency, "reportedAmount": amount,
        "reportedCurrency": currency,
    })


def _raise_mismatch(payment: Row, amount: Decimal | None) -> None:
    log.error("payment_amount_mismatch", payment_id=str(payment["id"]),
              expected=str(payment["amount"]), reported=str(amount))
    raise PaymentMismatchError(
        "The reported amount or currency differs from the payment's",
        paymentId=str(payment["id"]), expectedAmount=payment["amount"],
        expectedCurrency=payment["currency"].strip(),
    )
