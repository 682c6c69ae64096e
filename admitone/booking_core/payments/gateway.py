"""What the booking core needs of a payment gateway. The sandbox gateway implements it."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Protocol

ChargeStatus = Literal["PENDING", "SUCCESS", "FAILED", "UNKNOWN"]


class PaymentGateway(Protocol):
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
        """Ask the gateway what became of a charge (reconciliation, seed §10.2 case 2)."""
        ...

    async def refund(self, *, payment_id: str, refund_id: str, amount: Decimal) -> None:
        """Refund part or all of a captured charge (idempotent per refund id)."""
        ...


class RefundRejectedError(Exception):
    """The gateway refused a refund for good (unknown or uncaptured charge, too large): retrying
    cannot help. Any other exception from :meth:`PaymentGateway.refund` is taken as transient."""
