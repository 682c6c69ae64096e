"""What a reported payment outcome does to a payment and its booking: a pure decision.

The settlement transaction reads the payment, booking, seats and lock under row locks, asks
:func:`decide_settlement`, and writes what it answers. Keeping the rules here, without I/O,
makes every ordering of webhooks (duplicates, late failures, success after expiry) easy to
reason about and to test.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Literal

ReportedStatus = Literal["SUCCESS", "FAILED"]


class Settlement(enum.StrEnum):
    """The action a settlement takes."""

    CONFIRM = "CONFIRM"  # payment SUCCESS, booking CONFIRMED, seats BOOKED
    REFUND_SEATS_LOST = "REFUND_SEATS_LOST"  # money taken but the seats are gone: refund in full
    REFUND_MISMATCH = "REFUND_MISMATCH"  # money taken, but not the booking's amount: flag, refund
    FAIL = "FAIL"  # payment FAILED, booking FAILED, seats kept until the lock expires
    IGNORE = "IGNORE"  # already settled (duplicate, or a late failure after a success)


def decide_settlement(
    payment_status: str, booking_status: str, reported: ReportedStatus, *, seats_held: bool,
    amount_matches: bool = True,
) -> Settlement:
    """The action for ``reported`` on a payment in ``payment_status``.

    ``seats_held`` is true when the booking's lock is still active and holds every seat of the
    booking with an expiry still in the future: a payment that succeeds after its lock
    expired confirms nothing and is refunded, because the seats may have gone to another fan.

    - A confirmed booking is never undone by a late failure, and a settled payment is settled
      once: repeats are ignored.
    - A success reported after the payment was failed (the fan retried on the gateway's page
      after the seats were freed) refunds, because the seats are no longer held for it.
    - A success for another amount or currency than the booking's (``amount_matches`` false)
      never confirms: it is refunded whatever the seats' state.
    """
    if reported == "SUCCESS":
        if payment_status not in {"INITIATED", "FAILED"}:
            return Settlement.IGNORE  # SUCCESS or REFUNDED already
        if not amount_matches:
            return Settlement.REFUND_MISMATCH
        if payment_status == "INITIATED" and seats_held and booking_status == "PENDING":
            return Settlement.CONFIRM
        return Settlement.REFUND_SEATS_LOST
    return Settlement.FAIL if payment_status == "INITIATED" else Settlement.IGNORE


def amount_matches(
    expected_amount: Decimal, expected_currency: str, amount: Decimal | None,
    currency: str | None,
) -> bool:
    """Whether a reported success is for exactly what the payment asked.

    A success that does not say how much it took, or in which currency, is not a match: it
    cannot prove the booking was paid, so it is treated as a mismatch (refused or refunded,
    never confirmed) like a success for another amount or currency."""
    if amount is None or currency is None:
        return False
    return amount == expected_amount and currency.strip().upper() == expected_currency.strip()
