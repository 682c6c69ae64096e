"""The cancellation policy: refund fractions, exact boundaries, rounding, monotonicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admitone.booking_core.policy import decide_refund
from admitone.errors import CancellationClosedError

SHOW = datetime(2030, 6, 1, 18, 30, tzinfo=UTC)
# Every amount a numeric(10, 2) column can hold.
amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999999.99"), places=2)
# From 3 h after the show to 10 days before it, to the microsecond.
lead_times = st.timedeltas(min_value=timedelta(hours=-3), max_value=timedelta(days=10))


def refund_or_none(before: timedelta, amount: Decimal) -> Decimal | None:
    try:
        return decide_refund(SHOW, SHOW - before, amount).amount
    except CancellationClosedError:
        return None


@given(amount=amounts, before=lead_times)
def test_refund_never_exceeds_the_amount_and_is_never_negative(
    amount: Decimal, before: timedelta
) -> None:
    """Whatever the time and amount, a refund lies between 0 and the amount, in whole cents."""
    refund = refund_or_none(before, amount)
    if refund is not None:
        assert Decimal(0) <= refund <= amount
        assert refund == refund.quantize(Decimal("0.01"))


@given(amount=amounts, earlier=lead_times, later=lead_times)
def test_cancelling_earlier_never_returns_less(
    amount: Decimal, earlier: timedelta, later: timedelta
) -> None:
    """The refund is monotone in time: more lead time never gives a smaller refund."""
    if earlier < later:
        earlier, later = later, earlier
    early, late = refund_or_none(earlier, amount), refund_or_none(later, amount)
    if late is not None:
        assert early is not None
        assert early >= late
    if early is None:
        assert late is None


@given(
    amount=amounts,
    before=st.timedeltas(min_value=timedelta(hours=24), max_value=timedelta(days=400)),
)
def test_a_day_or_more_ahead_refunds_everything(amount: Decimal, before: timedelta) -> None:
    """From 24 h before the show on, the refund is the whole amount."""
    decision = decide_refund(SHOW, SHOW - before, amount)
    assert decision.amount == amount
    assert decision.is_full


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        (timedelta(hours=24), Decimal("200.00")),
        (timedelta(hours=24) - timedelta(microseconds=1), Decimal("100.00")),
        (timedelta(hours=2), Decimal("100.00")),
        (timedelta(hours=2) - timedelta(microseconds=1), None),
        (timedelta(0), None),
        (timedelta(hours=-1), None),
    ],
)
def test_boundaries_are_exact(before: timedelta, expected: Decimal | None) -> None:
    """Exactly 24 h ahead is a full refund, exactly 2 h a half, a microsecond less refuses."""
    assert refund_or_none(before, Decimal("200.00")) == expected


def test_half_refund_rounds_half_a_cent_up() -> None:
    """Half of an odd number of cents rounds up, to the fan: 50 % of 0.05 is 0.03."""
    assert decide_refund(SHOW, SHOW - timedelta(hours=5), Decimal("0.05")).amount == Decimal("0.03")
    assert decide_refund(SHOW, SHOW - timedelta(hours=5), Decimal("0.01")).amount == Decimal("0.01")


def test_refusal_says_until_when_cancelling_was_possible() -> None:
    """A refusal carries the show time and the last moment a cancellation was accepted."""
    with pytest.raises(CancellationClosedError) as caught:
        decide_refund(SHOW, SHOW - timedelta(hours=1), Decimal("10.00"))
    assert caught.value.context["cancellableUntil"] == SHOW - timedelta(hours=2)


@pytest.mark.parametrize("amount", [Decimal("-0.01"), Decimal("1.005"), Decimal("NaN")])
def test_malformed_amounts_are_refused(amount: Decimal) -> None:
    """Negative, sub-cent and non-finite amounts are a programming error, not a refund."""
    with pytest.raises(ValueError, match="amount"):
        decide_refund(SHOW, SHOW - timedelta(days=2), amount)


def test_naive_times_are_refused() -> None:
    """A datetime without a zone cannot be compared with the show's time safely."""
    with pytest.raises(ValueError, match="time zone"):
        decide_refund(SHOW.replace(tzinfo=None), datetime(2030, 1, 1), Decimal("1.00"))  # noqa: DTZ001
