"""Stripe, through its official SDK (``stripe``): Checkout Sessions, webhooks, refunds.

- Checkout creates one Checkout Session per payment (``mode=payment``, one line of the
  booking's own amount in the currency's minor unit), with Stripe's idempotency key set from
  our checkout's Idempotency-Key and payment id, so a retried create returns the same session.
  Our payment id rides along as ``client_reference_id`` and in the session's and the
  PaymentIntent's ``metadata``. ``success_url`` / ``cancel_url`` are built on
  ``ADMITONE_PUBLIC_URL``.
- ``/payments/{paymentId}/pay`` redirects the fan to the session's ``url``.
- Webhooks (``checkout.session.completed``, ``checkout.session.async_payment_succeeded``,
  ``payment_intent.succeeded``, ``payment_intent.payment_failed``, ``checkout.session.expired``,
  ``charge.refunded``) are verified by ``stripe.Webhook.construct_event`` with the endpoint
  secret: the ``Stripe-Signature: t=…,v1=…`` scheme, within the tolerance.
- Refunds are ``POST /v1/refunds`` on the PaymentIntent, idempotent per refund id.
- Reconciliation retrieves the session and then its PaymentIntent.

The SDK's asynchronous methods run on httpx; ``ADMITONE_STRIPE_API_URL`` is the SDK's own
``base_addresses["api"]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import asyncpg
import stripe
import structlog
from stripe.params import RefundCreateParams

from admitone.booking_core.payments.charges import ChargeReport, ProviderEvent
from admitone.booking_core.payments.money import from_minor_units, to_minor_units
from admitone.booking_core.payments.provider import ChargeStatus, RefundRejectedError
from admitone.booking_core.payments.provider_store import ProviderStore
from admitone.errors import SignatureInvalidError, WebhookBodyInvalidError
from admitone.settings import Settings

log = structlog.get_logger(__name__)

NAME = "STRIPE"
_MAX_SIGNATURE_CHARS = 2048
SESSION_SECONDS = 1800  # the least expires_at Stripe accepts: 30 minutes from creation
# Errors that retrying cannot help: Stripe answered that the request itself is wrong.
_REFUSALS = (stripe.InvalidRequestError, stripe.IdempotencyError, stripe.PermissionError)


class StripeGateway:
    """Implements :class:`PaymentProvider` and :class:`ReportsCharges` for Stripe."""

    name = NAME

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        if not (settings.stripe_secret_key and settings.stripe_webhook_secret):
            raise ValueError("Stripe needs its secret key and webhook endpoint secret")
        self.settings = settings
        self._webhook_secret = settings.stripe_webhook_secret
        self.client = stripe.StripeClient(
            settings.stripe_secret_key.reveal(),
            base_addresses={"api": settings.stripe_api_url.rstrip("/")},
            http_client=stripe.HTTPXClient(timeout=settings.provider_timeout_seconds),
            max_network_retries=1,
        )
        self.store = ProviderStore(pool)

    def pay_url(self, payment_id: str) -> str:
        return f"{self.settings.base_url}/payments/{payment_id}/pay"

    @property
    def success_url(self) -> str:
        return f"{self.settings.base_url}/payments/stripe/return?session_id={{CHECKOUT_SESSION_ID}}"

    # PaymentProvider ------------------------------------------------------------------------

    async def create_charge(
        self, *, payment_id: str, amount: Decimal, currency: str, method: str, return_url: str
    ) -> str:
        await self.ensure_session(payment_id)
        return self.pay_url(payment_id)

    async def ensure_session(self, payment_id: str) -> str:
        """The URL of the payment's Checkout Session, created now if there is none yet."""
        row = await self.store.charge(payment_id)
        if row is None:
            raise LookupError(f"no payment {payment_id}")
        if row["provider_order_id"] and row["provider_pay_url"]:
            return str(row["provider_pay_url"])
        currency = row["currency"].strip()
        metadata = {"payment_id": payment_id, "booking_id": str(row["booking_id"]),
                    "reference": row["reference"]}
        session = await self.client.v1.checkout.sessions.create_async(
            params={
                "mode": "payment",
                "line_items": [{
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": to_minor_units(row["amount"], currency),
                        "product_data": {"name": f"Booking {row['reference']}"},
                    },
                }],
                "client_reference_id": payment_id,
                "customer_email": row["email"],
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata},
                "success_url": self.success_url,
                # Stripe's shortest session: a payment after our window closes is refunded,
                # and the reconciler expires the session when it fails the payment.
                "expires_at": int(time.time()) + SESSION_SECONDS,
                "cancel_url": f"{self.settings.base_url}/bookings/{row['booking_id']}",
            },
            options={"idempotency_key": _idempotency_key(payment_id, row["idempotency_key"])},
        )
        await self.store.set_order(payment_id, session.id, session.url)
        log.info("stripe_session_ready", payment_id=payment_id, session_id=session.id)
        return str(session.url)

    async def close_charge(self, payment_id: str) -> None:
        """Expire the payment's Checkout Session so it can no longer be paid."""
        row = await self.store.charge(payment_id)
        if row is None or not row["provider_order_id"]:
            return
        try:
            await self.client.v1.checkout.sessions.expire_async(row["provider_order_id"])
        except stripe.InvalidRequestError:  # completed or expired already
            return
        log.info("stripe_session_expired", payment_id=payment_id,
                 session_id=row["provider_order_id"])

    async def fetch_status(self, payment_id: str) -> ChargeStatus:
        return (await self.fetch_charge(payment_id)).status

    async def fetch_charge(self, payment_id: str) -> ChargeReport:
        """Retrieve the session, then its PaymentIntent: ``succeeded`` is a SUCCESS with what it
        received; an expired session is a FAILED; anything else is still PENDING."""
        row = await self.store.charge(payment_id)
        if row is None or not row["provider_order_id"]:
            return ChargeReport("UNKNOWN")
        session = await self.client.v1.checkout.sessions.retrieve_async(row["provider_order_id"])
        intent_id = _id_of(session.payment_intent)
        if intent_id:
            intent = await self.client.v1.payment_intents.retrieve_async(intent_id)
            if intent.status == "succeeded":
                currency = str(intent.currency).upper()
                return ChargeReport(
                    "SUCCESS", amount=from_minor_units(int(intent.amount_received), currency),
                    currency=currency, transaction_id=intent.id,
                )
        if session.status == "expired":
            return ChargeReport("FAILED")
        return ChargeReport("PENDING")

    async def refund(self, *, payment_id: str, refund_id: str, amount: Decimal) -> None:
        """Refund the PaymentIntent once per refund id. A refund for a wrong amount gives back
        everything captured (no ``amount`` sent)."""
        row = await self.store.charge(payment_id)
        if row is None:
            raise RefundRejectedError(f"no payment {payment_id}")
        intent_id = row["gateway_transaction_id"]
        if not intent_id:
            report = await self.fetch_charge(payment_id)
            intent_id = report.transaction_id
        if not intent_id:
            raise RefundRejectedError(f"payment {payment_id} has no Stripe PaymentIntent")
        refund_row = await self.store.refund(refund_id)
        params: RefundCreateParams = {
            "payment_intent": intent_id,
            "metadata": {"refund_id": refund_id, "payment_id": payment_id},
        }
        if refund_row is None or refund_row["reason"] != "AMOUNT_MISMATCH":
            params["amount"] = to_minor_units(amount, row["currency"])
        try:
            made = await self.client.v1.refunds.create_async(
                params=params,
                options={"idempotency_key": f"admitone-refund-{refund_id}"},
            )
        except _REFUSALS as exc:
            raise RefundRejectedError(f"Stripe refused the refund: {exc.user_message or exc}") \
                from exc
        await self.store.set_provider_refund_id(refund_id, made.id)
        log.info("stripe_refund_created", payment_id=payment_id, refund_id=refund_id,
                 stripe_refund_id=made.id)

    # Webhooks and the return from Checkout -------------------------------------------------

    def verify_webhook(self, body: bytes, signature: str | None) -> ProviderEvent:
        """The event of a webhook that ``stripe.Webhook.construct_event`` verified."""
        if not signature or len(signature) > _MAX_SIGNATURE_CHARS:
            raise SignatureInvalidError("The Stripe-Signature header is missing")
        secret = self._webhook_secret.reveal() if self._webhook_secret else ""
        try:
            event = stripe.Webhook.construct_event(
                body, signature, secret, tolerance=self.settings.webhook_tolerance_seconds
            )
        except stripe.SignatureVerificationError:
            raise SignatureInvalidError(
                "Stripe-Signature is malformed, stale or does not sign this body"
            ) from None
        except (ValueError, IndexError):  # a garbled header, or a verified body that is no JSON
            raise WebhookBodyInvalidError("The Stripe webhook is not a readable event") from None
        document = json.loads(body)
        obj = document.get("data", {}).get("object") if isinstance(document, dict) else None
        if not isinstance(obj, dict):
            raise WebhookBodyInvalidError("The Stripe event has no data.object")
        return stripe_event(str(event.id), str(event.type), obj)

    async def session_payment(self, session_id: str) -> str | None:
        """Our payment id of a Checkout Session the fan came back from (retrieved from Stripe,
        not taken from the URL)."""
        try:
            session = await self.client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.InvalidRequestError:
            return None
        return await self.store.payment_for_order(NAME, session.id)


def _idempotency_key(payment_id: str, ours: str | None) -> str:
    """Stripe's idempotency key from ours: scoped by our payment id, as two visitors may pick
    the same key, at most 255 characters."""
    return f"admitone-checkout-{payment_id}-{ours or ''}"[:255]


def _id_of(value: Any) -> str | None:
    """An expandable field: an id string, or the expanded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return str(found) if found else None
    return None


def stripe_event(event_id: str, event_type: str, obj: Mapping[str, Any]) -> ProviderEvent:
    """A verified Stripe event as a :class:`ProviderEvent`."""
    common: dict[str, Any] = {"provider": NAME, "event_id": event_id, "event_type": event_type}
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    currency = str(obj.get("currency") or "").upper() or None
    if event_type in {"checkout.session.completed", "checkout.session.async_payment_succeeded"}:
        if obj.get("payment_status") != "paid":
            return ProviderEvent(**common, kind="IGNORED")  # a delayed method: wait for it
        total = obj.get("amount_total")
        return ProviderEvent(
            **common, kind="CAPTURED", order_id=obj.get("id"),
            payment_ref=obj.get("client_reference_id"), transaction_id=_id_of(
                obj.get("payment_intent")),
            amount=from_minor_units(int(total), currency) if currency and total is not None
            else None, currency=currency,
        )
    if event_type in {"payment_intent.succeeded", "payment_intent.payment_failed"}:
        received = obj.get("amount_received")
        succeeded = event_type == "payment_intent.succeeded"
        return ProviderEvent(
            **common, kind="CAPTURED" if succeeded else "ATTEMPT_FAILED",
            payment_ref=(metadata or {}).get("payment_id"), transaction_id=obj.get("id"),
            amount=from_minor_units(int(received), currency)
            if succeeded and currency and received is not None else None,
            currency=currency,
        )
    if event_type == "checkout.session.expired":
        return ProviderEvent(**common, kind="EXPIRED", order_id=obj.get("id"),
                             payment_ref=obj.get("client_reference_id"))
    if event_type == "charge.refunded":
        return ProviderEvent(**common, kind="REFUNDED",
                             transaction_id=_id_of(obj.get("payment_intent")))
    return ProviderEvent(**common, kind="IGNORED")
