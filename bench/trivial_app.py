"""The framework's ceiling: one trivial Litestar JSON endpoint, served like admitone.

Run by ``bench/booking_bench.py`` as
``uvicorn trivial_app:app --app-dir bench --workers N --loop uvloop --http httptools``.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, get


class Pong(msgspec.Struct, frozen=True):
    """The endpoint's answer."""

    ok: bool
    service: str


@get("/ping", sync_to_thread=False)
def ping() -> Pong:
    """A constant JSON body: measures routing, serialisation and the server, nothing else."""
    return Pong(ok=True, service="trivial")


app = Litestar(route_handlers=[ping], debug=False)
