"""Reconciliation: settle payments whose webhook was delayed or lost.

A payment still INITIATED ``reconcile_after_seconds`` after it began, or past its payment
window, is looked up at the gateway. A SUCCESS or FAILED answer is settled through the same
:meth:`PaymentService.settle` as a webhook. A payment whose window closed while the gateway
still says PENDING (or does not know it) is failed, which frees its seats; should the gateway
capture it after all, the late success refunds automatically.

A real provider (:class:`ReportsCharges`: Razorpay, Stripe) also reports the amount and
currency it took; a success for anything else than the booking's is flagged and refunded.
"""

from __future__ import annotations

import structlog

from admitone.booking_core.payments.charges import ChargeReport, ClosesCharges, ReportsCharges
from admitone.booking_core.payments.decisions import Settlement
from admitone.booking_core.payments.provider import ChargeStatus, PaymentProvider
from admitone.booking_core.payments.repository import PaymentRepository
from admitone.booking_core.payments.service import PaymentService

log = structlog.get_logger(__name__)


class PaymentReconciler:
    """The ``payment_reconciler`` job: ask the gateway about payments that stayed open."""

    def __init__(self, payments: PaymentService, *, after_seconds: int) -> None:
        self.payments = payments
        self.repository: PaymentRepository = payments.repository
        self.after_seconds = after_seconds

    async def reconcile_once(self, limit: int = 100) -> int:
        """Settle what the gateway knows of the due payments; return how many changed."""
        changed = 0
        for row in await self.repository.due_payments(self.after_seconds, limit):
            payment_id = str(row["id"])
            gateway = self.payments.gateway_for(row["gateway"])
            report = await self._fetch_charge(gateway, payment_id)
            status = report.status
            if status in {"SUCCESS", "FAILED"}:
                result = await self.payments.settle(
                    payment_id, "SUCCESS" if status == "SUCCESS" else "FAILED", actor="reconciler",
                    amount=report.amount, currency=report.currency,
                    transaction_id=report.transaction_id,
                    on_mismatch="refund" if isinstance(gateway, ReportsCharges) else "reject",
                )
            elif row["expired"]:
                result = await self.payments.settle(
                    payment_id, "FAILED", actor="reconciler", failure_reason="PAYMENT_EXPIRED"
                )
                if result.action is Settlement.FAIL and isinstance(gateway, ClosesCharges):
                    await self._close(gateway, payment_id)
            else:
                continue
            if result.action not in {None, Settlement.IGNORE}:
                changed += 1
                log.info("payment_reconciled", payment_id=payment_id, gateway_status=status,
                         action=str(result.action))
        return changed

    async def _close(self, gateway: ClosesCharges, payment_id: str) -> None:
        try:
            await gateway.close_charge(payment_id)
        except Exception as exc:  # noqa: BLE001 - a late success is refunded all the same
            log.warning("gateway_close_failed", payment_id=payment_id, error=repr(exc)[:500])

    async def _fetch_charge(
        self, gateway: PaymentProvider | None, payment_id: str
    ) -> ChargeReport:
        if gateway is None:  # its provider's keys are gone: the window's end fails it
            return ChargeReport("UNKNOWN")
        try:
            if isinstance(gateway, ReportsCharges):
                return await gateway.fetch_charge(payment_id)
            status: ChargeStatus = await gateway.fetch_status(payment_id)
        except Exception as exc:  # noqa: BLE001 - an unreachable gateway is an unknown status
            log.warning("gateway_status_unavailable", payment_id=payment_id, error=repr(exc))
            return ChargeReport("UNKNOWN")
        return ChargeReport(status)
