"""Razorpay, through its official SDK (``razorpay``): Orders, Checkout, webhooks, refunds.

- Checkout creates one Order per payment: the amount in paise (minor units) from the booking's
  own amount and currency, the booking's reference as ``receipt``, our payment id and the
  checkout's Idempotency-Key in ``notes``. It is created once: the order id is stored on the
  payment, and an order already made for the receipt (our process died before storing it) is
  found with ``GET /v1/orders?receipt=`` and reused.
- The fan pays on ``/payments/{paymentId}/pay`` with Razorpay Checkout (its script, with the
  order id), or without the script through Razorpay's hosted checkout form.
- The checkout callback's ``razorpay_signature`` is verified with
  ``client.utility.verify_payment_signature``; webhooks (``payment.captured``, ``order.paid``,
  ``payment.failed``, ``refund.processed``) with ``client.utility.verify_webhook_signature``
  over the raw body and ``X-Razorpay-Signature``.
- Refunds go through ``POST /v1/payments/{id}/refund`` with our refund id as ``receipt``; one
  already made for that receipt is found first, so a retried refund never refunds twice.
- Reconciliation fetches the order's payments (``GET /v1/orders/{id}/payments``).

The SDK is synchronous (``requests``): every call runs in a worker thread with a timeout.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg
import razorpay
import razorpay.errors
import requests
import structlog

from admitone.booking_core.payments.charges import ChargeReport, ProviderEvent
from admitone.booking_core.payments.money import from_minor_units, to_minor_units
from admitone.booking_core.payments.provider import ChargeStatus, RefundRejectedError
from admitone.booking_core.payments.provider_store import ProviderStore
from admitone.errors import SignatureInvalidError, WebhookBodyInvalidError
from admitone.settings import Settings

log = structlog.get_logger(__name__)

NAME = "RAZORPAY"
_T = TypeVar("_T")
_MAX_SIGNATURE_CHARS = 256  # a hex SHA-256 is 64


class RazorpayGateway:
    """Implements :class:`PaymentProvider` and :class:`ReportsCharges` for Razorpay."""

    name = NAME

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        if not (settings.razorpay_key_id and settings.razorpay_key_secret
                and settings.razorpay_webhook_secret):
            raise ValueError("Razorpay needs its key id, key secret and webhook secret")
        self.settings = settings
        self.key_id = settings.razorpay_key_id
        self._webhook_secret = settings.razorpay_webhook_secret
        self.client = razorpay.Client(
            auth=(settings.razorpay_key_id, settings.razorpay_key_secret.reveal()),
            base_url=settings.razorpay_api_url.rstrip("/"),
        )
        self.timeout_seconds = settings.provider_timeout_seconds
        self.store = ProviderStore(pool)

    def pay_url(self, payment_id: str) -> str:
        return f"{self.settings.base_url}/payments/{payment_id}/pay"

    @property
    def hosted_checkout_url(self) -> str:
        """Razorpay's hosted checkout: a plain form POST, for browsers without the script."""
        return f"{self.settings.razorpay_api_url.rstrip('/')}/v1/checkout/embedded"

    async def _call(self, method: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.to_thread(method, *args, timeout=self.timeout_seconds)

    # PaymentProvider ------------------------------------------------------------------------

    async def create_charge(
        self, *, payment_id: str, amount: Decimal, currency: str, method: str, return_url: str
    ) -> str:
        """Create the payment's Order once (see the module's docstring); return the pay page."""
        await self.ensure_order(payment_id)
        return self.pay_url(payment_id)

    async def ensure_order(self, payment_id: str) -> str:
        """The Razorpay order id of the payment, created now if checkout could not."""
        row = await self.store.charge(payment_id)
        if row is None:
            raise LookupError(f"no payment {payment_id}")
        if row["provider_order_id"]:
            return str(row["provider_order_id"])
        found = await self._call(self.client.order.all, {"receipt": row["reference"]})
        existing = [  # notes are a JSON object, or [] when empty
            order for order in found.get("items", [])
            if isinstance(order.get("notes"), dict)
            and order["notes"].get("payment_id") == payment_id
        ]
        if existing:
            order = existing[0]
        else:
            order = await self._call(self.client.order.create, {
                "amount": to_minor_units(row["amount"], row["currency"]),
                "currency": row["currency"].strip(),
                "receipt": row["reference"],
                "notes": {
                    "payment_id": payment_id,
                    "booking_id": str(row["booking_id"]),
                    "idempotency_key": (row["idempotency_key"] or "")[:255],
                },
            })
        kept = await self.store.set_order(payment_id, str(order["id"]), self.pay_url(payment_id))
        log.info("razorpay_order_ready", payment_id=payment_id, order_id=kept,
                 reused=bool(existing))
        return kept

    async def fetch_status(self, payment_id: str) -> ChargeStatus:
        return (await self.fetch_charge(payment_id)).status

    async def fetch_charge(self, payment_id: str) -> ChargeReport:
        """What the order's payments say: a captured one is a SUCCESS (with what it took);
        failed attempts leave it PENDING, since the fan may try again until the window ends."""
        row = await self.store.charge(payment_id)
        if row is None or not row["provider_order_id"]:
            return ChargeReport("UNKNOWN")
        found = await self._call(self.client.order.payments, row["provider_order_id"])
        items: list[dict[str, Any]] = list(found.get("items", []))
        captured = [p for p in items if p.get("status") in {"captured", "refunded"}]
        if captured:
            paid = captured[0]
            currency = str(paid.get("currency", "")).upper()
            return ChargeReport(
                "SUCCESS", amount=from_minor_units(int(paid["amount"]), currency),
                currency=currency, transaction_id=str(paid["id"]),
            )
        return ChargeReport("PENDING")

    async def refund(self, *, payment_id: str, refund_id: str, amount: Decimal) -> None:
        """Refund the order's captured payment once per refund id (its ``receipt``). A refund
        for a wrong amount gives back the whole capture (no ``amount`` sent)."""
        row = await self.store.charge(payment_id)
        if row is None or not row["provider_order_id"]:
            raise RefundRejectedError(f"payment {payment_id} has no Razorpay order")
        report = await self.fetch_charge(payment_id)
        if report.status != "SUCCESS" or report.transaction_id is None:
            raise RefundRejectedError(f"order {row['provider_order_id']} has no captured payment")
        pay_id = report.transaction_id
        done = await self._call(self.client.payment.fetch_multiple_refund, pay_id, {})
        for refund in done.get("items", []):
            if refund.get("receipt") == refund_id:
                await self.store.set_provider_refund_id(refund_id, str(refund["id"]))
                return
        refund_row = await self.store.refund(refund_id)
        body: dict[str, Any] = {
            "receipt": refund_id,
            "speed": "normal",
            "notes": {"payment_id": payment_id, "refund_id": refund_id},
        }
        if refund_row is None or refund_row["reason"] != "AMOUNT_MISMATCH":
            body["amount"] = to_minor_units(amount, row["currency"])
        try:
            made = await self._call(self.client.payment.refund, pay_id, body)
        except razorpay.errors.BadRequestError as exc:
            raise RefundRejectedError(f"Razorpay refused the refund: {exc}") from exc
        await self.store.set_provider_refund_id(refund_id, str(made["id"]))
        log.info("razorpay_refund_created", payment_id=payment_id, refund_id=refund_id,
                 razorpay_refund_id=made["id"])

    # Signatures --------------------------------------------------------------------------

    def verify_callback(self, fields: Mapping[str, str]) -> str:
        """The order id of a Checkout callback whose ``razorpay_signature`` the SDK verified."""
        needed = ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")
        if any(not fields.get(name) for name in needed):
            raise SignatureInvalidError(
                "The Razorpay callback lacks its order, payment or signature"
            )
        try:
            self.client.utility.verify_payment_signature({name: fields[name] for name in needed})
        except razorpay.errors.SignatureVerificationError:
            raise SignatureInvalidError("The Razorpay callback signature does not verify") from None
        return fields["razorpay_order_id"]

    def verify_webhook(
        self, body: bytes, signature: str | None, event_id: str | None
    ) -> ProviderEvent:
        """The event of a webhook whose ``X-Razorpay-Signature`` the SDK verified over the raw
        body. Its id is Razorpay's ``X-Razorpay-Event-Id`` (the body's hash without one)."""
        if not signature or len(signature) > _MAX_SIGNATURE_CHARS:
            raise SignatureInvalidError("The X-Razorpay-Signature header is missing")
        try:
            text = body.decode("utf-8")
            self.client.utility.verify_webhook_signature(
                text, signature, self._webhook_secret.reveal() if self._webhook_secret else ""
            )
        except (UnicodeDecodeError, razorpay.errors.SignatureVerificationError):
            raise SignatureInvalidError(
                "X-Razorpay-Signature does not sign this body with the webhook secret"
            ) from None
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise WebhookBodyInvalidError("A Razorpay webhook body is a JSON object")
        return razorpay_event(document, event_id or hashlib.sha256(body).hexdigest())


def razorpay_event(document: Mapping[str, Any], event_id: str) -> ProviderEvent:
    """A verified Razorpay webhook body as a :class:`ProviderEvent`."""
    event_type = str(document.get("event", ""))
    payload = document.get("payload") or {}
    payment = (payload.get("payment") or {}).get("entity") or {}
    common: dict[str, Any] = {"provider": NAME, "event_id": event_id, "event_type": event_type}
    if event_type in {"payment.captured", "order.paid", "payment.failed"} and payment:
        currency = str(payment.get("currency", "")).upper()
        amount = payment.get("amount")
        return ProviderEvent(
            **common,
            kind="ATTEMPT_FAILED" if event_type == "payment.failed" else "CAPTURED",
            order_id=payment.get("order_id"),
            payment_ref=(payment.get("notes") or {}).get("payment_id")
            if isinstance(payment.get("notes"), dict) else None,
            transaction_id=payment.get("id"),
            amount=from_minor_units(int(amount), currency) if isinstance(amount, int) else None,
            currency=currency or None,
        )
    if event_type == "refund.processed":
        refund = (payload.get("refund") or {}).get("entity") or {}
        return ProviderEvent(
            **common, kind="REFUNDED", order_id=payment.get("order_id"),
            transaction_id=refund.get("payment_id"), refund_ref=refund.get("receipt"),
            provider_refund_id=refund.get("id"),
        )
    return ProviderEvent(**common, kind="IGNORED")


# Errors of the SDK and its HTTP library that mean "try again later".
TRANSIENT_ERRORS = (razorpay.errors.ServerError, razorpay.errors.GatewayError,
                    requests.RequestException)
