"""Webhook signatures: ``X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``.

Pure functions, shared by the sandbox gateway (which signs) and the webhook route (which
verifies). The timestamp is inside the signed text, so an old delivery cannot be replayed with a
fresh ``t``; the tolerance bounds how old a genuine one may be.
"""

from __future__ import annotations

import hashlib
import hmac

from admitone import observability

SIGNATURE_HEADER = "X-Signature"
_MAX_HEADER_CHARS = 1024  # a real header is ~80 characters; anything far longer is not ours


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``X-Signature`` header for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def parse_signature_header(header: str) -> tuple[int, list[str]] | None:
    """``(timestamp, [v1 signatures])`` from a header, or None when it is malformed."""
    if not header or len(header) > _MAX_HEADER_CHARS:
        return None
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return None
        if key == "t":
            if not value.isdigit() or timestamp is not None:
                return None
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify_signature(
    secret: str, header: str | None, body: bytes, *, now: float, tolerance_seconds: int,
    provider: str = "sandbox",
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``tolerance_seconds``
    old (or as far in the future, for clock skew). Every v1 value is compared in constant time.
    A refusal is counted (``admitone_webhook_signature_failures_total{provider}``)."""
    if _signature_matches(secret, header, body, now=now, tolerance_seconds=tolerance_seconds):
        return True
    observability.count_signature_failure(provider)
    return False


def _signature_matches(
    secret: str, header: str | None, body: bytes, *, now: float, tolerance_seconds: int
) -> bool:
    parsed = parse_signature_header(header or "")
    if parsed is None:
        return False
    timestamp, signatures = parsed
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = compute_signature(secret, timestamp, body).encode()
    matched = False
    for candidate in signatures:
        # No early exit: each candidate costs the same whatever it holds.
        matched |= hmac.compare_digest(expected, candidate.encode())
    return matched
