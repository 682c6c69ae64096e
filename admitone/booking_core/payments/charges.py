"""What a real provider tells beyond :class:`PaymentProvider`: the captured amount of a charge,
and its webhook events in one shape whichever provider sent them.

The Razorpay and Stripe adapters (``razorpay.py``, ``stripe.py``) implement
:class:`ReportsCharges`; the reconciler uses it to settle a lost webhook with the amount and
currency the provider actually took, so a wrong amount is refunded there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from admitone.booking_core.payments.provider import ChargeStatus

EventKind = Literal["CAPTURED", "ATTEMPT_FAILED", "EXPIRED", "REFUNDED", "IGNORED"]


@dataclass(frozen=True, slots=True)
class ChargeReport:
    """A charge as the provider reports it (amounts already in the booking's units)."""

    status: ChargeStatus
    amount: Decimal | None = None
    currency: str | None = None
    transaction_id: str | None = None  # Razorpay ``pay_…``, Stripe ``pi_…``


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A verified webhook event of a provider, reduced to what settlement needs.

    ``order_id`` is the provider object checkout created (Razorpay ``order_…``, Stripe
    ``cs_…``), ``payment_ref`` our payment id when the event carries it (notes, metadata),
    ``refund_ref`` our refund id (Razorpay refund ``receipt``, Stripe refund metadata)."""

    provider: str
    event_id: str
    event_type: str
    kind: EventKind
    order_id: str | None = None
    payment_ref: str | None = None
    transaction_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    refund_ref: str | None = None
    provider_refund_id: str | None = None


@runtime_checkable
class ClosesCharges(Protocol):
    """A gateway that can stop a charge from being paid once our payment window has closed."""

    async def close_charge(self, payment_id: str) -> None:
        """Close the provider's order or session of ``payment_id`` (best effort: a payment
        that still succeeds later is refunded)."""
        ...


@runtime_checkable
class ReportsCharges(Protocol):
    """A gateway that reports the amount it captured, not only a status."""

    name: str

    async def fetch_charge(self, payment_id: str) -> ChargeReport:
        """Ask the provider what became of the charge of ``payment_id``."""
        ...
