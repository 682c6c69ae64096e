"""The cancellation policy, the refund window: a pure function of the clock.

    at least 24 h before the show   100 % refund
    2 h to 24 h before the show      50 % refund
    under 2 h (or after the start)   no cancellation

Boundaries belong to the kinder side: exactly 24 h before is a full refund, exactly 2 h before
is still a half refund. Money is :class:`~decimal.Decimal`; a refund is rounded to the cent
with ``ROUND_HALF_UP`` (commercial rounding: half a cent goes to the fan), which can never
exceed the amount paid because the fraction is at most 1 and the amount has two places.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from admitone.errors import CancellationClosedError

FULL_REFUND_BEFORE = timedelta(hours=24)
HALF_REFUND_BEFORE = timedelta(hours=2)
FULL = Decimal("1")
HALF = Decimal("0.5")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class RefundDecision:
    """What cancelling now returns: the fraction of the amount and the refund in money."""

    fraction: Decimal
    amount: Decimal

    @property
    def is_full(self) -> bool:
        return self.fraction == FULL


def decide_refund(show_time: datetime, now: datetime, amount: Decimal) -> RefundDecision:
    """The refund for cancelling at ``now`` a booking of ``amount`` for a show at ``show_time``.

    Raises :class:`CancellationClosedError` under 2 h before the show, and ``ValueError`` for
    naive datetimes or an amount that is negative, not finite, or finer than a cent.
    """
    if show_time.tzinfo is None or now.tzinfo is None:
        raise ValueError("show_time and now must carry a time zone")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise ValueError(f"amount must be a non-negative sum in cents, not {amount}")
    before = show_time - now
    if before >= FULL_REFUND_BEFORE:
        fraction = FULL
    elif before >= HALF_REFUND_BEFORE:
        fraction = HALF
    else:
        raise CancellationClosedError(
            "Bookings can be cancelled up to 2 hours before the show",
            showTime=show_time,
            cancellableUntil=show_time - HALF_REFUND_BEFORE,
        )
    return RefundDecision(fraction, (amount * fraction).quantize(CENT, rounding=ROUND_HALF_UP))
