"""Who the client is, as far as the network tells: its IP address and a binding hash.

The IP is the ASGI scope's client, which :func:`proxy_middleware` (the app's outermost
middleware) has already set: the direct peer, or, when that peer is in
``ADMITONE_TRUSTED_PROXIES``, the first address from the right of ``X-Forwarded-For`` that is
not a trusted proxy itself (so a client cannot choose its own address by sending the header).
The servers' own proxy-header handling is off (``admitone up``/``serve`` start uvicorn with
``proxy_headers=False``): this is the one place that reads the header.
A queue token is bound to the client's network (IPv4 /24, IPv6 /56) and User-Agent.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

_V4_PREFIX = 24
_V6_PREFIX = 56


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's IP address (a string; ``"unknown"`` when the server does not say)."""
    return connection.client.host if connection.client else "unknown"


def proxy_middleware(trusted: tuple[str, ...]) -> Any:
    """The Litestar middleware that sets the scope's client (and scheme) from
    ``X-Forwarded-For`` (``X-Forwarded-Proto``) only when the direct peer is in ``trusted``,
    walking the header right to left past trusted hops (uvicorn's ProxyHeadersMiddleware, used
    as a library: the same code the server would run, but with our list)."""

    def middleware(app: ASGIApp) -> ASGIApp:
        if not trusted:
            return app
        # uvicorn types ASGI apps its own way; the protocol is the same.
        wrapped: ASGIApp = ProxyHeadersMiddleware(
            app, trusted_hosts=list(trusted),  # type: ignore[arg-type]
        )  # type: ignore[assignment]
        return wrapped

    return middleware


def in_networks(ip: str, networks: tuple[str, ...]) -> bool:
    """Whether ``ip`` is in one of ``networks`` (False for an address that does not parse)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in networks)


@functools.lru_cache(maxsize=65536)
def network_of(ip: str) -> str:
    """The network a client address belongs to, for binding (a mobile fan keeps its place
    while its address moves within its provider's block). Remembered per address (bounded):
    parsing it with ipaddress costs tens of microseconds on every join and status poll."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    prefix = _V4_PREFIX if address.version == 4 else _V6_PREFIX  # noqa: PLR2004 - IPv4
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def client_binding(ip: str, user_agent: str) -> str:
    """The ``cnf`` of a queue token: a hash of the client's network and User-Agent."""
    return _binding(ip, user_agent[:512])


@functools.lru_cache(maxsize=16384)
def _binding(ip: str, user_agent: str) -> str:
    """Remembered per client (bounded): a fan polls its status from the same address and
    browser every few seconds, and the hash and its encoding cost more than the lookup."""
    digest = hashlib.sha256(f"{network_of(ip)}|{user_agent}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()
