"""What the booking core needs of a payment provider (the sandbox implements it).

A provider charges, reports a charge's status and refunds; its webhooks reach the booking core
through ``PaymentService.handle_webhook``."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Protocol

ChargeStatus = Literal["PENDING", "SUCCESS", "FAILED", "UNKNOWN"]


class PaymentProvider(Protocol):
    """A payment service provider, as seen from the booking core."""

    name: str

    async def create_charge(
        self, *, payment_id: str, amount: Decimal, currency: str, method: str, return_url: str
    ) -> str:
        """Register a charge (idempotent per payment id); return the URL the fan pays at."""
        ...

    def pay_url(self, payment_id: str) -> str:
        """The page the fan pays at, known before the charge is registered (checkout's answer)."""
        ...

    async def fetch_status(self, payment_id: str) -> ChargeStatus:
        """Ask the gateway what became of a charge (reconciliation of a lost webhook)."""
        ...

    async def refund(self, *, payment_id: str, refund_id: str, amount: Decimal) -> None:
        """Refund part or all of a captured charge (idempotent per refund id)."""
        ...


class RefundRejectedError(Exception):
    """The gateway refused a refund for good (unknown or uncaptured charge, too large): retrying
    cannot help. Any other exception from :meth:`PaymentProvider.refund` is taken as transient."""
