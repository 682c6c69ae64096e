"""Payment providers over HTTP: one webhook route per provider, the fan's pay and return pages,
and the operator's view of refunds (issue 13)."""

from __future__ import annotations

from admitone.gateway.payments.api import ROUTES as API_ROUTES
from admitone.gateway.payments.pages import ROUTES as PAGE_ROUTES

ROUTES = [*API_ROUTES, *PAGE_ROUTES]

__all__ = ["ROUTES"]
