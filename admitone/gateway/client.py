"""Who the client is, as far as the network tells: its IP address and a binding hash.

The IP comes from the ASGI scope; ``X-Forwarded-For`` is read only when
``ADMITONE_TRUSTED_PROXY_HOPS`` says how many proxies in front append to it (the client is then
that many entries from the right), so a client cannot choose its own address by sending the
header. A queue token is bound to the client's network (IPv4 /24, IPv6 /56) and User-Agent.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from typing import Any

from litestar.connection import ASGIConnection

_V4_PREFIX = 24
_V6_PREFIX = 56


def client_ip(connection: ASGIConnection[Any, Any, Any, Any], trusted_proxy_hops: int) -> str:
    """The client's IP address (a string; ``"unknown"`` when the server does not say)."""
    peer = connection.client.host if connection.client else "unknown"
    if trusted_proxy_hops <= 0:
        return peer
    forwarded = [
        part.strip()
        for value in connection.headers.getall("x-forwarded-for", [])
        for part in value.split(",") if part.strip()
    ]
    if len(forwarded) < trusted_proxy_hops:
        return forwarded[0] if forwarded else peer
    return forwarded[-trusted_proxy_hops]


def network_of(ip: str) -> str:
    """The network a client address belongs to, for binding (a mobile fan keeps its place
    while its address moves within its provider's block)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    prefix = _V4_PREFIX if address.version == 4 else _V6_PREFIX  # noqa: PLR2004 - IPv4
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def client_binding(ip: str, user_agent: str) -> str:
    """The ``cnf`` of a queue token: a hash of the client's network and User-Agent."""
    digest = hashlib.sha256(f"{network_of(ip)}|{user_agent[:512]}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()
