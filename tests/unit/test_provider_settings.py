"""Payment-provider settings: keys from the environment or a file, never echoed; a missing or
malformed one stops start-up with one line naming its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from admitone.settings import Secret, SettingsError, load_settings

RAZORPAY = {
    "ADMITONE_PAYMENT_PROVIDER": "razorpay",
    "ADMITONE_RAZORPAY_KEY_ID": "rzp_test_AbCdEf123456",
    "ADMITONE_RAZORPAY_KEY_SECRET": "SecretSecret0123456789ab",
    "ADMITONE_RAZORPAY_WEBHOOK_SECRET": "webhook-secret-1",
    "ADMITONE_PUBLIC_URL": "https://tickets.example.com",
}
STRIPE = {
    "ADMITONE_PAYMENT_PROVIDER": "stripe",
    "ADMITONE_STRIPE_SECRET_KEY": "sk_test_51AbCdEfGhIjKlMn",
    "ADMITONE_STRIPE_WEBHOOK_SECRET": "whsec_0123456789abcdef",
    "ADMITONE_PUBLIC_URL": "https://tickets.example.com",
}


def test_sandbox_is_the_default_provider() -> None:
    """With nothing set the sandbox takes the payments and no provider key is needed."""
    assert load_settings({}).payment_provider == "sandbox"


def test_complete_provider_settings_load_and_hide_their_secrets() -> None:
    """Razorpay's and Stripe's keys load; the settings' repr never shows a secret."""
    razorpay = load_settings(RAZORPAY)
    stripe = load_settings(STRIPE)
    assert razorpay.razorpay_key_secret == Secret("SecretSecret0123456789ab")
    assert stripe.stripe_webhook_secret is not None
    assert stripe.stripe_webhook_secret.reveal() == "whsec_0123456789abcdef"
    for settings, secret in ((razorpay, "SecretSecret0123456789ab"),
                             (stripe, "sk_test_51AbCdEfGhIjKlMn")):
        assert secret not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        (RAZORPAY, "ADMITONE_RAZORPAY_KEY_SECRET"),
        (RAZORPAY, "ADMITONE_RAZORPAY_WEBHOOK_SECRET"),
        (RAZORPAY, "ADMITONE_PUBLIC_URL"),
        (STRIPE, "ADMITONE_STRIPE_SECRET_KEY"),
        (STRIPE, "ADMITONE_STRIPE_WEBHOOK_SECRET"),
    ],
)
def test_missing_key_names_its_variable(environ: dict[str, str], missing: str) -> None:
    """Without one of its keys the provider cannot start: one line naming the variable."""
    with pytest.raises(SettingsError) as caught:
        load_settings({k: v for k, v in environ.items() if k != missing})
    message = str(caught.value)
    assert message.startswith(f"{missing}: required when ADMITONE_PAYMENT_PROVIDER=")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMITONE_RAZORPAY_KEY_ID", "rzp_prod_Whatever123"),
        ("ADMITONE_RAZORPAY_KEY_SECRET", "short secret"),
        ("ADMITONE_STRIPE_SECRET_KEY", "pk_test_0123456789abcdef"),
        ("ADMITONE_STRIPE_WEBHOOK_SECRET", "0123456789abcdef"),
    ],
)
def test_malformed_key_names_its_variable_without_echoing_it(name: str, value: str) -> None:
    """A malformed key is refused by name; its value does not appear in the message."""
    environ = {**(STRIPE if "STRIPE" in name else RAZORPAY), name: value}
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    assert str(caught.value).startswith(f"{name}: expected")
    assert value not in str(caught.value)


def test_keys_are_read_from_files(tmp_path: Path) -> None:
    """``<VARIABLE>_FILE`` names a file holding the key (a mounted secret), newline dropped."""
    secret_file = tmp_path / "stripe-key"
    secret_file.write_text("sk_test_51FromAFile000000\n", encoding="utf-8")
    environ = {k: v for k, v in STRIPE.items() if k != "ADMITONE_STRIPE_SECRET_KEY"}
    settings = load_settings({**environ, "ADMITONE_STRIPE_SECRET_KEY_FILE": str(secret_file)})
    assert settings.stripe_secret_key == Secret("sk_test_51FromAFile000000")


def test_unreadable_or_doubled_key_file_is_refused(tmp_path: Path) -> None:
    """A key file that cannot be read, or a key set both ways, stops start-up by name."""
    with pytest.raises(SettingsError, match=r"^ADMITONE_STRIPE_SECRET_KEY_FILE="):
        load_settings({**STRIPE, "ADMITONE_STRIPE_SECRET_KEY": "",
                       "ADMITONE_STRIPE_SECRET_KEY_FILE": str(tmp_path / "absent")})
    with pytest.raises(SettingsError, match="both set"):
        load_settings({**STRIPE, "ADMITONE_STRIPE_SECRET_KEY_FILE": str(tmp_path / "x")})
