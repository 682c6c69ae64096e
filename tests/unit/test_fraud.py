"""The fraud signals and the buyer keys are pure functions: their rules, and properties that
hold for every input (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from admitone.booking_core import fraud
from admitone.booking_core.policy import (
    email_key,
    instrument_key,
    lock_network,
    normalize_email,
)

counts = st.integers(min_value=0, max_value=10_000)
ages = st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650))


def facts(**overrides: object) -> fraud.CheckoutFacts:
    values: dict[str, object] = {
        "show_bookings_last_hour": 0, "instruments_last_day": 1, "attempts_last_10_minutes": 1,
        "identity_age": timedelta(days=30), "seats": 2,
    }
    values.update(overrides)
    return fraud.CheckoutFacts(**values)  # type: ignore[arg-type]


def test_an_ordinary_checkout_scores_nothing() -> None:
    assert fraud.reasons(facts()) == []
    assert fraud.score([]) == 0


def test_each_signal_fires_from_its_threshold() -> None:
    assert fraud.repeat_bookings(1) is None
    assert fraud.repeat_bookings(2) == fraud.Reason(
        "REPEAT_BOOKINGS", 40, "2 earlier bookings of this show by this e-mail within an hour")
    assert fraud.many_payment_methods(2) is None
    assert fraud.many_payment_methods(3).points == 30  # type: ignore[union-attr]
    assert fraud.many_payment_methods(9).points == 50  # type: ignore[union-attr]
    assert fraud.velocity(4) is None
    assert fraud.velocity(5).points == 30  # type: ignore[union-attr]
    assert fraud.velocity(10).points == 50  # type: ignore[union-attr]
    assert fraud.bulk_on_fresh_identity(3, None) is None
    assert fraud.bulk_on_fresh_identity(4, None).points == 30  # type: ignore[union-attr]
    assert fraud.bulk_on_fresh_identity(8, timedelta(hours=2)).points == 40  # type: ignore[union-attr]
    assert fraud.bulk_on_fresh_identity(8, timedelta(days=1)) is None  # known for a day


def test_a_scalper_pattern_is_held_and_one_signal_alone_is_not() -> None:
    scalper = facts(show_bookings_last_hour=3, instruments_last_day=4, attempts_last_10_minutes=6,
                    identity_age=None, seats=6)
    found = fraud.reasons(scalper)
    assert [r.signal for r in found] == [
        "REPEAT_BOOKINGS", "MANY_PAYMENT_METHODS", "VELOCITY", "BULK_ON_FRESH_IDENTITY"]
    assert fraud.score(found) == fraud.MAX_SCORE
    assert fraud.needs_review(fraud.score(found), 60)
    # A family buying six seats with a new address: one signal, not held at the default.
    family = fraud.reasons(facts(identity_age=None, seats=6))
    assert not fraud.needs_review(fraud.score(family), 60)


def test_review_is_off_at_threshold_zero_and_strictly_above_otherwise() -> None:
    assert not fraud.needs_review(100, 0)
    assert not fraud.needs_review(60, 60)
    assert fraud.needs_review(61, 60)


@given(counts, counts, counts, ages, st.integers(min_value=1, max_value=100))
def test_no_signal_alone_reaches_the_default_threshold(
    repeat: int, methods: int, attempts: int, age: timedelta | None, seats: int
) -> None:
    for reason in (fraud.repeat_bookings(repeat), fraud.many_payment_methods(methods),
                   fraud.velocity(attempts), fraud.bulk_on_fresh_identity(seats, age)):
        assert reason is None or 0 < reason.points <= 60


@given(counts, counts, counts, ages, st.integers(min_value=1, max_value=100), counts)
def test_more_suspicion_never_lowers_the_score(
    repeat: int, methods: int, attempts: int, age: timedelta | None, seats: int, more: int
) -> None:
    base = facts(show_bookings_last_hour=repeat, instruments_last_day=methods,
                 attempts_last_10_minutes=attempts, identity_age=age, seats=seats)
    worse = facts(show_bookings_last_hour=repeat + more, instruments_last_day=methods + more,
                  attempts_last_10_minutes=attempts + more, identity_age=age, seats=seats + more)
    low, high = fraud.score(fraud.reasons(base)), fraud.score(fraud.reasons(worse))
    assert 0 <= low <= high <= fraud.MAX_SCORE


def test_an_email_is_counted_by_the_mailbox_it_reaches() -> None:
    assert normalize_email(" J.Doe+tickets@GoogleMail.com ") == "jdoe@gmail.com"
    assert normalize_email("Fan.One+2@Example.com") == "fan.one@example.com"
    assert email_key("fan.one@example.com") == email_key("FAN.ONE+x@example.com")
    assert email_key("a@example.com") != email_key("b@example.com")
    assert email_key("x@example.com").startswith("e:")


@given(st.emails())
def test_normalising_an_email_is_idempotent(address: str) -> None:
    once = normalize_email(address)
    assert normalize_email(once) == once
    assert email_key(address) == email_key(once) == email_key(address.upper())


def test_an_instrument_is_counted_whatever_its_spacing_and_case() -> None:
    assert instrument_key(None) is None
    assert instrument_key("   ") is None
    assert instrument_key("fan@okaxis") == instrument_key(" FAN@OKAXIS ")
    assert instrument_key("card_fp_1") != instrument_key("card_fp_2")


def test_the_lock_cap_counts_a_client_by_its_network() -> None:
    assert lock_network("203.0.113.77") == "203.0.113.0/24"
    assert lock_network("203.0.113.200") == lock_network("203.0.113.1")
    assert lock_network("203.0.114.1") != lock_network("203.0.113.1")
    assert lock_network("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert lock_network("2001:db8:1:2:ffff::9") == lock_network("2001:db8:1:2::1")
    assert lock_network("::ffff:198.51.100.7") == "198.51.100.0/24"
    assert lock_network("unknown") == ""
    assert lock_network("") == ""


@given(st.ip_addresses())
def test_every_address_falls_in_its_own_network(address: object) -> None:
    import ipaddress

    network = lock_network(str(address))
    loopback = ipaddress.ip_address(str(address))
    if isinstance(loopback, ipaddress.IPv6Address) and loopback.ipv4_mapped is not None:
        loopback = loopback.ipv4_mapped
    if loopback.is_loopback:  # this machine: a local proxy or load test, no network of fans
        assert network == ""
        return
    assert network
    parsed = ipaddress.ip_network(network)
    assert parsed.prefixlen in {24, 64}
