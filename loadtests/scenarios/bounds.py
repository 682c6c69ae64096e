"""Limits that keep a load run on this machine and finite."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_url(url: str | None) -> bool:
    """True only for an http(s) URL whose host is a loopback name or address (127.0.0.0/8, ::1)."""
    if not url:
        return False
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    host = parts.hostname.lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_loopback(url: str | None) -> str:
    """``url`` itself, or ValueError when it does not point at this machine."""
    if not is_loopback_url(url):
        raise ValueError(
            f"refusing to send load to {url!r}: only loopback hosts (127.0.0.1, localhost, [::1])"
        )
    assert url is not None  # noqa: S101 - is_loopback_url rejected None
    return url
