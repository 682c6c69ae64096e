"""The payment webhook: the payment provider tells the booking core how a payment ended.

The signature is checked by a guard, before the body is parsed, on the raw bytes that were
signed; anything unsigned, wrongly signed or stale is answered 401 and changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from litestar import Request, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.openapi import ResponseSpec

from admitone.booking_core.payments.models import WebhookIn, WebhookReceived
from admitone.booking_core.payments.service import PaymentService
from admitone.booking_core.payments.signature import SIGNATURE_HEADER, verify_signature
from admitone.errors import SignatureInvalidError
from admitone.gateway.guards import process_services

log = structlog.get_logger(__name__)


async def webhook_signature_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Verify ``X-Signature`` over the raw body with the webhook secret, within the tolerance."""
    assert isinstance(connection, Request)  # noqa: S101 - guards of HTTP routes get the request
    state = process_services(connection)
    body = await connection.body()  # cached: the handler's body parsing reads the same bytes
    if not verify_signature(
        state.webhook_secret, connection.headers.get(SIGNATURE_HEADER), body,
        now=time.time(), tolerance_seconds=state.settings.webhook_tolerance_seconds,
    ):
        log.warning("webhook_signature_invalid", has_header=SIGNATURE_HEADER in connection.headers)
        raise SignatureInvalidError(
            "The X-Signature header is missing, malformed, stale or does not sign this body"
        )


@post(
    "/api/v1/payments/webhook", tags=["payments"], status_code=200,
    guards=[webhook_signature_guard],
    summary="Payment outcome from the gateway (signed with X-Signature)",
    description=(
        "Header `X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"t.body\">`. A bad, stale or "
        "missing signature → 401 SIGNATURE_INVALID and nothing changes. The same event twice "
        "changes nothing the second time. An unknown payment is acknowledged (200) and logged, "
        "so the gateway does not retry it forever."
    ),
    responses={401: ResponseSpec(data_container=dict, description="SIGNATURE_INVALID")},
)
async def payment_webhook(data: WebhookIn, payments: PaymentService) -> WebhookReceived:
    await payments.handle_webhook(data)
    return WebhookReceived(received=True)


ROUTES = [payment_webhook]
