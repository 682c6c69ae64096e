"""The cancellation policy (the refund window: a pure function of the clock), and the keys
the seat limits count a buyer by (its e-mail, payment instrument and network).

The refund window:

    at least 24 h before the show   100 % refund
    2 h to 24 h before the show      50 % refund
    under 2 h (or after the start)   no cancellation

Boundaries belong to the kinder side: exactly 24 h before is a full refund, exactly 2 h before
is still a half refund. Money is :class:`~decimal.Decimal`; a refund is rounded to the cent
with ``ROUND_HALF_UP`` (commercial rounding: half a cent goes to the fan), which can never
exceed the amount paid because the fraction is at most 1 and the amount has two places.
"""

from __future__ import annotations

import hashlib
import ipaddress
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


# Who is buying, as far as a scalper cannot mint it for free ---------------------------------
#
# A visitor id costs nothing (a show without a room admits a new one on every join), so the
# seat limit of a show is also counted per normalised e-mail and per payment instrument at
# checkout, and live locks are capped per client network (README "Seat limits").

_DOT_BLIND_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 64


def normalize_email(email: str) -> str:
    """The mailbox an address delivers to: case folded, a ``+tag`` dropped from the local part,
    and for Gmail the dots too (``J.Doe+x@GoogleMail.com`` → ``jdoe@gmail.com``)."""
    local, at, domain = email.strip().casefold().rpartition("@")
    if not at:
        return email.strip().casefold()
    local = local.split("+", 1)[0]
    if domain in _DOT_BLIND_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _key(kind: str, value: str) -> str:
    return kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]


def email_key(email: str) -> str:
    """The hash the seat limit and the fraud signals count an e-mail address by."""
    return _key("e", normalize_email(email))


def instrument_key(instrument: str | None) -> str | None:
    """The hash of a payment instrument's fingerprint (a card fingerprint, a UPI id), spaces
    and case ignored; None when the checkout named none."""
    if instrument is None:
        return None
    cleaned = "".join(instrument.split()).casefold()
    return _key("i", cleaned) if cleaned else None


def lock_network(ip: str) -> str:
    """The network the per-network lock cap counts a client in: its IPv4 /24 or IPv6 /64
    (an IPv4-mapped IPv6 address counts as IPv4); ``""`` for an address that is not one, and
    for loopback: a peer on this machine is a local proxy or a load test, never a network of
    fans (behind a proxy, ``ADMITONE_TRUSTED_PROXIES`` gives each fan its own address), so
    capping it would put every fan in one bucket."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return ""
    prefix = IPV4_NETWORK_PREFIX if address.version == 4 else IPV6_NETWORK_PREFIX  # noqa: PLR2004
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
