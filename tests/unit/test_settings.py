"""Settings are parsed once; a bad value names its variable."""

from __future__ import annotations

import pytest

from admitone.settings import SettingsError, load_settings, payments_refusal


def test_defaults_follow_the_contract() -> None:
    """Unset variables give the contract's defaults."""
    settings = load_settings({})
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert str(settings.data_dir) == ".admitone"
    assert settings.database_url is None
    assert settings.sandbox_payments is False  # a development mode: asked for, never assumed


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMITONE_PORT", "eighty"),
        ("ADMITONE_PORT", "70000"),
        ("ADMITONE_WORKERS", "0"),
        ("ADMITONE_DATABASE_URL", "mysql://x"),
        ("ADMITONE_REDIS_URL", "localhost:6379"),
        ("ADMITONE_OPERATOR_TOKEN", "short"),
        ("ADMITONE_SANDBOX_PAYMENTS", "maybe"),
        ("ADMITONE_LOCK_SECONDS", "-1"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    """The error is one line that names the variable (and its value, unless it is a secret)."""
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}:" if name == "ADMITONE_OPERATOR_TOKEN" else f"{name}=")
    assert "\n" not in message


def test_payment_window_must_be_shorter_than_the_lock() -> None:
    """A payment timeout at least as long as the lock is refused (seed §10.2 case 3)."""
    with pytest.raises(SettingsError, match="ADMITONE_PAYMENT_TIMEOUT_SECONDS"):
        load_settings({"ADMITONE_LOCK_SECONDS": "300", "ADMITONE_PAYMENT_TIMEOUT_SECONDS": "300"})


def test_values_are_typed() -> None:
    """Numbers, booleans and URLs arrive typed."""
    settings = load_settings({"ADMITONE_PORT": "9000", "ADMITONE_SANDBOX_PAYMENTS": "on",
                              "ADMITONE_DATABASE_URL": "postgresql://u@h/db"})
    assert settings.port == 9000
    assert settings.sandbox_payments is True
    assert settings.database_url == "postgresql://u@h/db"


def test_the_sandbox_provider_is_refused_unless_the_sandbox_is_asked_for() -> None:
    """The default provider (the sandbox, which takes no money) only runs with
    ADMITONE_SANDBOX_PAYMENTS=1; the refusal is one line naming both variables."""
    refusal = payments_refusal(load_settings({}))
    assert refusal is not None
    assert "ADMITONE_PAYMENT_PROVIDER=sandbox" in refusal
    assert "ADMITONE_SANDBOX_PAYMENTS=1" in refusal
    assert "\n" not in refusal
    assert payments_refusal(load_settings({"ADMITONE_SANDBOX_PAYMENTS": "1"})) is None


def test_a_lock_is_held_at_most_fifteen_minutes_by_default() -> None:
    # Before: a lock lived up to three lock periods (30 minutes) however it was extended.
    assert load_settings({}).lock_hold_seconds == 900
    # Short locks (tests, demos) keep at most three lock periods.
    assert load_settings({"ADMITONE_LOCK_SECONDS": "6", "ADMITONE_PAYMENT_TIMEOUT_SECONDS": "3"}
                         ).lock_hold_seconds == 18
    longer = load_settings({"ADMITONE_LOCK_MAX_HOLD_SECONDS": "1200"})
    assert longer.lock_hold_seconds == 1200


def test_a_lock_hold_shorter_than_one_lock_period_is_refused() -> None:
    with pytest.raises(SettingsError, match="ADMITONE_LOCK_MAX_HOLD_SECONDS=300"):
        load_settings({"ADMITONE_LOCK_MAX_HOLD_SECONDS": "300"})


def test_fraud_and_network_settings() -> None:
    settings = load_settings({})
    assert settings.fraud_review_score == 60
    assert settings.max_seats_per_network == 40
    off = load_settings({"ADMITONE_FRAUD_REVIEW_SCORE": "0", "ADMITONE_MAX_SEATS_PER_NETWORK": "0"})
    assert (off.fraud_review_score, off.max_seats_per_network) == (0, 0)
    with pytest.raises(SettingsError, match="ADMITONE_MAX_SEATS_PER_NETWORK"):
        load_settings({"ADMITONE_MAX_SEATS_PER_NETWORK": "-1"})


def test_lock_batch_setting() -> None:
    """ADMITONE_LOCK_BATCH is the largest lock batch, 0 (off, the default) or more; a negative one names
    its variable."""
    assert load_settings({}).lock_batch == 0
    assert load_settings({"ADMITONE_LOCK_BATCH": "32"}).lock_batch == 32
    with pytest.raises(SettingsError, match="ADMITONE_LOCK_BATCH"):
        load_settings({"ADMITONE_LOCK_BATCH": "-1"})
