"""What the gateway's provider routes call: webhooks, the pay page, the fan's return.

One verified event of any provider goes one way (:meth:`ProviderPayments.handle_event`):

- ``CAPTURED`` settles a SUCCESS through :meth:`PaymentService.settle` with the amount and
  currency the provider took (another amount than the booking's is flagged and refunded) and
  the provider's event id recorded in the same transaction, so the same event twice — or two
  events of one capture, such as Stripe's session and intent — confirm once;
- ``ATTEMPT_FAILED`` is recorded and audited only: Razorpay Checkout and Stripe Checkout let
  the fan try another card on the same order, so the seats stay held until the payment window
  closes, when the reconciler fails the payment (``PAYMENT_EXPIRED``);
- ``EXPIRED`` (a Stripe session that expired) fails the payment at once;
- ``REFUNDED`` marks our refund PROCESSED if our own call has not already.

Refunds that settlement creates are left to the outbox worker (``refund_now=False``), so a
webhook is answered as soon as its transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, cast

import structlog

from admitone.booking_core.payments.charges import ProviderEvent
from admitone.booking_core.payments.models import RefundOut, RefundRetryOut, RefundState
from admitone.booking_core.payments.money import to_minor_units
from admitone.booking_core.payments.provider_store import ProviderStore
from admitone.booking_core.payments.service import PaymentService
from admitone.errors import (
    AdmitoneError,
    ConflictError,
    DependencyUnavailableError,
    NotFoundError,
    PaymentNotFoundError,
)

if TYPE_CHECKING:  # the SDKs load only when a provider is configured (runtime.build_provider)
    from admitone.booking_core.payments.razorpay import RazorpayGateway
    from admitone.booking_core.payments.stripe import StripeGateway

log = structlog.get_logger(__name__)

Provider: TypeAlias = "RazorpayGateway | StripeGateway"


@contextmanager
def provider_answers(name: str) -> Iterator[None]:
    """A provider that fails to answer a fan's page is a 503 with Retry-After, not a 500."""
    try:
        yield
    except AdmitoneError:
        raise
    except Exception as exc:
        log.warning("provider_unavailable", provider=name, error=repr(exc)[:500])
        raise DependencyUnavailableError(name.title()) from exc


@dataclass(frozen=True, slots=True)
class PayPage:
    """What the fan's pay page shows or where it sends the fan (no I/O left to do)."""

    provider: str
    payment_id: str
    status: str
    amount: Decimal
    currency: str
    reference: str
    email: str
    return_url: str
    redirect_url: str | None = None  # Stripe: the Checkout Session; any: the booking when paid
    order_id: str | None = None  # Razorpay
    amount_minor: int | None = None
    key_id: str | None = None
    script_url: str | None = None
    callback_url: str | None = None
    hosted_checkout_url: str | None = None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What one webhook did (for logs and tests; the provider only sees 200)."""

    event_id: str
    kind: str
    payment_id: str | None
    duplicate: bool = False
    action: str | None = None


class ProviderPayments:
    """The configured real provider (Razorpay or Stripe) as the gateway's routes see it."""

    def __init__(self, payments: PaymentService, provider: Provider | None, base_url: str) -> None:
        self.payments = payments
        self.provider = provider
        self.base_url = base_url
        self.store = ProviderStore(payments.pool)

    def _razorpay(self) -> RazorpayGateway:
        if self.provider is None or self.provider.name != "RAZORPAY":
            raise NotFoundError("Razorpay is not this server's payment provider")
        return cast("RazorpayGateway", self.provider)

    def _stripe(self) -> StripeGateway:
        if self.provider is None or self.provider.name != "STRIPE":
            raise NotFoundError("Stripe is not this server's payment provider")
        return cast("StripeGateway", self.provider)

    # Webhooks --------------------------------------------------------------------------------

    async def razorpay_webhook(
        self, body: bytes, signature: str | None, event_id: str | None
    ) -> EventOutcome:
        return await self.handle_event(self._razorpay().verify_webhook(body, signature, event_id))

    async def stripe_webhook(self, body: bytes, signature: str | None) -> EventOutcome:
        return await self.handle_event(self._stripe().verify_webhook(body, signature))

    async def handle_event(self, event: ProviderEvent) -> EventOutcome:
        """Apply one verified event (see the module's docstring); safe to repeat."""
        event_key = f"{event.provider.lower()}:{event.event_id}"[:255]
        payment_id = await self._payment_of(event)
        outcome = EventOutcome(event.event_id, event.kind, payment_id)
        if event.kind == "IGNORED":
            return outcome
        if payment_id is None:
            log.warning("provider_event_payment_unknown", provider=event.provider,
                        event_type=event.event_type, order_id=event.order_id)
            return outcome
        if event.kind in {"CAPTURED", "EXPIRED"}:
            captured = event.kind == "CAPTURED"
            result = await self.payments.settle(
                payment_id, "SUCCESS" if captured else "FAILED", actor="webhook",
                event_id=event_key, transaction_id=event.transaction_id if captured else None,
                amount=event.amount, currency=event.currency, on_mismatch="refund",
                refund_now=False, provider=event.provider,
                failure_reason="PAYMENT_FAILED" if captured else "PAYMENT_EXPIRED",
            )
            return EventOutcome(event.event_id, event.kind, payment_id, result.duplicate,
                                None if result.action is None else result.action.value)
        if event.kind == "ATTEMPT_FAILED":
            fresh = await self.store.record_event(
                event.provider, event_key, payment_id, "ATTEMPT_FAILED",
                ("payment", payment_id, "ATTEMPT_FAILED", {
                    "provider": event.provider, "eventId": event.event_id,
                    "transactionId": event.transaction_id,
                }),
            )
            log.info("payment_attempt_failed", payment_id=payment_id, provider=event.provider)
            return EventOutcome(event.event_id, event.kind, payment_id, duplicate=not fresh)
        return await self._refunded(event, event_key, payment_id)

    async def _refunded(
        self, event: ProviderEvent, event_key: str, payment_id: str
    ) -> EventOutcome:
        refund_id = event.refund_ref if event.refund_ref and await self.store.refund(
            event.refund_ref) else await self.store.refund_of_payment(payment_id)
        fresh = await self.store.record_event(event.provider, event_key, payment_id, "REFUNDED")
        if fresh and refund_id is not None:
            moved = await self.store.confirm_refund(refund_id, event.provider_refund_id)
            log.info("provider_refund_confirmed", refund_id=refund_id, moved=moved)
        return EventOutcome(event.event_id, event.kind, payment_id, duplicate=not fresh)

    async def _payment_of(self, event: ProviderEvent) -> str | None:
        """Our payment the event is about: by the provider's order, else by our id in its
        notes or metadata (checked to be a payment of this provider), else by transaction."""
        if event.order_id:
            found = await self.store.payment_for_order(event.provider, event.order_id)
            if found:
                return found
        if event.payment_ref and await self.store.is_provider_payment(
            event.provider, event.payment_ref
        ):
            return event.payment_ref
        if event.transaction_id:
            return await self.store.payment_for_transaction(event.provider, event.transaction_id)
        return None

    # The fan's pages --------------------------------------------------------------------------

    async def pay_page(self, payment_id: str) -> PayPage:
        """The pay page of a payment; its provider order is created now if checkout could not
        reach the provider. A settled payment sends the fan to the booking."""
        provider = self.provider
        row = await self.store.charge(payment_id)
        if provider is None or row is None or row["gateway"] != provider.name:
            raise PaymentNotFoundError(f"No payment {payment_id[:64]!r} is paid here")
        return_url = f"{self.base_url}/bookings/{row['booking_id']}"
        page = PayPage(
            provider=provider.name, payment_id=payment_id, status=row["status"],
            amount=row["amount"], currency=row["currency"].strip(), reference=row["reference"],
            email=row["email"], return_url=return_url,
        )
        if row["status"] != "INITIATED" or row["expires_at"] <= datetime.now(UTC):
            return replace(page, redirect_url=return_url)  # paid, failed, or its window closed
        if provider.name == "STRIPE":
            with provider_answers(provider.name):
                session_url = await self._stripe().ensure_session(payment_id)
            return replace(page, redirect_url=session_url)
        razorpay = self._razorpay()
        with provider_answers(provider.name):
            order_id = await razorpay.ensure_order(payment_id)
        return replace(
            page, order_id=order_id, key_id=razorpay.key_id,
            amount_minor=to_minor_units(row["amount"], row["currency"]),
            script_url=razorpay.settings.razorpay_checkout_script_url,
            callback_url=f"{self.base_url}/payments/{payment_id}/razorpay/callback",
            hosted_checkout_url=razorpay.hosted_checkout_url,
        )

    async def razorpay_callback(self, payment_id: str, fields: Mapping[str, str]) -> str:
        """Checkout posted the payment back: verify its signature with the SDK, settle what
        the order's payments say now (the webhook may be later), return the booking page.
        A failed attempt comes back without a signature: the fan returns to the pay page."""
        razorpay = self._razorpay()
        if not fields.get("razorpay_signature") and any(k.startswith("error") for k in fields):
            log.info("razorpay_checkout_attempt_failed", payment_id=payment_id[:64])
            return razorpay.pay_url(payment_id)
        order_id = razorpay.verify_callback(fields)
        if await self.store.payment_for_order(razorpay.name, order_id) != payment_id:
            raise PaymentNotFoundError(
                f"The Razorpay order {order_id[:64]!r} is not this payment's"
            )
        return await self._settle_now(payment_id)

    async def stripe_return(self, session_id: str) -> str:
        """The fan came back from Stripe Checkout: retrieve the session and its intent, settle
        what they say, return the booking page."""
        with provider_answers("Stripe"):
            payment_id = await self._stripe().session_payment(session_id)
        if payment_id is None:
            raise PaymentNotFoundError(f"No payment has the Stripe session {session_id[:64]!r}")
        return await self._settle_now(payment_id)

    async def _settle_now(self, payment_id: str) -> str:
        assert self.provider is not None  # noqa: S101 - checked by _razorpay / _stripe
        with provider_answers(self.provider.name):
            report = await self.provider.fetch_charge(payment_id)
        if report.status == "SUCCESS":
            await self.payments.settle(
                payment_id, "SUCCESS", actor="return", transaction_id=report.transaction_id,
                amount=report.amount, currency=report.currency, on_mismatch="refund",
                refund_now=False,
            )
        row = await self.store.charge(payment_id)
        assert row is not None  # noqa: S101 - found just above
        return f"{self.base_url}/bookings/{row['booking_id']}"


    # The operator's view of refunds -----------------------------------------------------------

    async def refunds(self, status: RefundState, limit: int) -> list[RefundOut]:
        """Refunds in ``status``, newest first: FAILED ones are those an operator must see."""
        return [
            RefundOut(
                id=str(r["id"]), payment_id=str(r["payment_id"]), booking_id=str(r["booking_id"]),
                reference=r["reference"], provider=r["gateway"], amount=r["amount"],
                currency=r["currency"].strip(), reason=r["reason"], status=r["status"],
                attempts=r["attempts"], last_error=r["last_error"],
                provider_refund_id=r["provider_refund_id"], created_at=r["created_at"],
                processed_at=r["processed_at"],
            )
            for r in await self.store.refunds(status, limit)
        ]

    async def retry_refund(self, refund_id: str, actor: str) -> RefundRetryOut:
        """Send a FAILED refund again (the outbox worker picks it up within a second)."""
        row = await self.store.retry_refund(refund_id, actor)
        if row is None:
            if await self.store.refund(refund_id) is None:
                raise NotFoundError(f"No refund {refund_id[:64]!r}")
            raise ConflictError("Only a FAILED refund can be sent again", refundId=refund_id)
        log.info("refund_retry_requested", refund_id=refund_id, actor=actor)
        return RefundRetryOut(id=refund_id, status="PENDING")
