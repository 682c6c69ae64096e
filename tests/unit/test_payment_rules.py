"""Pure payment rules: webhook signatures and the settlement decision."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admitone.booking_core.payments.decisions import Settlement, amount_matches, decide_settlement
from admitone.booking_core.payments.signature import (
    parse_signature_header,
    signature_header,
    verify_signature,
)

SECRET = "webhook-secret-for-unit-tests"
NOW = 1_800_000_000


@given(body=st.binary(max_size=512), skew=st.integers(-300, 300))
def test_a_signature_verifies_within_the_tolerance(body: bytes, skew: int) -> None:
    """What the sandbox signs verifies for any body, up to the tolerance either way."""
    header = signature_header(SECRET, NOW + skew, body)
    assert verify_signature(SECRET, header, body, now=NOW, tolerance_seconds=300)


@given(body=st.binary(min_size=1, max_size=256), flip=st.integers(0, 255))
def test_any_changed_byte_breaks_the_signature(body: bytes, flip: int) -> None:
    """Changing the body after signing is always caught."""
    header = signature_header(SECRET, NOW, body)
    changed = bytes([body[0] ^ (flip or 1)]) + body[1:]
    assert not verify_signature(SECRET, header, changed, now=NOW, tolerance_seconds=300)


SIGNED_BODY = b'{"paymentId": "p", "status": "SUCCESS"}'


@pytest.mark.parametrize("header", [
    signature_header(SECRET, NOW - 301, SIGNED_BODY),
    signature_header(SECRET, NOW + 301, SIGNED_BODY),
    signature_header("another-secret-entirely", NOW, SIGNED_BODY),
    None, "", "t=abc,v1=00", f"v1={'0' * 64}", "t=1,t=2,v1=00", "garbage", "t=1," * 400,
])
def test_stale_wrong_secret_and_garbled_headers_fail(header: str | None) -> None:
    """Too old, too far ahead, another secret, or no parseable header: not verified."""
    assert not verify_signature(SECRET, header, SIGNED_BODY, now=NOW, tolerance_seconds=300)


def test_header_with_several_signatures_verifies_if_any_matches() -> None:
    """During a secret rotation a provider sends several v1 values; one good one suffices."""
    body = b"{}"
    good = signature_header(SECRET, NOW, body).split(",")[1]
    header = f"t={NOW},v1={'0' * 64},{good}"
    assert parse_signature_header(header) == (NOW, ["0" * 64, good.removeprefix("v1=")])
    assert verify_signature(SECRET, header, body, now=NOW, tolerance_seconds=300)


PAYMENT_STATES = ["INITIATED", "SUCCESS", "FAILED", "REFUNDED"]
BOOKING_STATES = ["PENDING", "CONFIRMED", "FAILED", "CANCELLED"]


def test_success_confirms_only_an_open_payment_with_its_seats_held() -> None:
    """CONFIRM needs an INITIATED payment, a PENDING booking and every seat still held."""
    assert (decide_settlement("INITIATED", "PENDING", "SUCCESS", seats_held=True)
            is Settlement.CONFIRM)
    assert (decide_settlement("INITIATED", "PENDING", "SUCCESS", seats_held=False)
            is Settlement.REFUND_SEATS_LOST)
    assert (decide_settlement("FAILED", "FAILED", "SUCCESS", seats_held=False)
            is Settlement.REFUND_SEATS_LOST)


@given(st.sampled_from(PAYMENT_STATES), st.sampled_from(BOOKING_STATES), st.booleans())
def test_a_settled_success_is_never_undone(payment: str, booking: str, held: bool) -> None:
    """Once a payment is SUCCESS or REFUNDED, no later report changes anything."""
    if payment in {"SUCCESS", "REFUNDED"}:
        for reported in ("SUCCESS", "FAILED"):
            decided = decide_settlement(payment, booking, reported, seats_held=held)
            assert decided is Settlement.IGNORE


@given(st.sampled_from(PAYMENT_STATES), st.sampled_from(BOOKING_STATES), st.booleans())
def test_a_failure_only_fails_an_open_payment(payment: str, booking: str, held: bool) -> None:
    """FAILED acts on an INITIATED payment only; anything else ignores it."""
    expected = Settlement.FAIL if payment == "INITIATED" else Settlement.IGNORE
    assert decide_settlement(payment, booking, "FAILED", seats_held=held) is expected


@pytest.mark.parametrize("payment_status", ["INITIATED", "FAILED"])
@pytest.mark.parametrize("seats_held", [True, False])
def test_success_for_another_amount_is_refunded_never_confirmed(
    payment_status: str, seats_held: bool
) -> None:
    """A mismatched success refunds whatever the seats; a settled payment ignores it."""
    assert decide_settlement(payment_status, "PENDING", "SUCCESS", seats_held=seats_held,
                             amount_matches=False) is Settlement.REFUND_MISMATCH
    assert decide_settlement("SUCCESS", "CONFIRMED", "SUCCESS", seats_held=seats_held,
                             amount_matches=False) is Settlement.IGNORE


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (Decimal("200.00"), "INR", True),
    (Decimal("200.00"), "inr", True),
    (None, "INR", False),
    (Decimal("200.00"), None, False),
    (None, None, False),
    (Decimal("199.99"), "INR", False),
    (Decimal("200.00"), "USD", False),
])
def test_a_success_matches_only_when_it_reports_the_amount_and_currency(
    amount: Decimal | None, currency: str | None, expected: bool,
) -> None:
    """A success without an amount or currency never matches: it cannot confirm a booking."""
    assert amount_matches(Decimal("200.00"), "INR", amount, currency) is expected
