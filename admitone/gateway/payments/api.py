"""Payment webhooks: how a payment ended, told by the provider that took it.

The sandbox's ``POST /api/v1/payments/webhook``: its signature is checked by a guard, before
the body is parsed, on the raw bytes that were signed. Razorpay's and Stripe's routes, one each,
read the raw body (the signature covers its exact bytes), hand it to the provider's SDK for
verification and to the booking core for settlement, and answer 200 as soon as that one
transaction commits; refunds it causes are sent by the outbox worker. Anything unsigned, wrongly
signed or stale is answered 401 and changes nothing; the same event twice changes nothing the
second time.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import structlog
from litestar import Request, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import Parameter

from admitone.booking_core.payments.models import (
    WebhookIn,
    WebhookReceived,
)
from admitone.booking_core.payments.providers import ProviderPayments
from admitone.booking_core.payments.service import PaymentService
from admitone.booking_core.payments.signature import SIGNATURE_HEADER, verify_signature
from admitone.errors import SignatureInvalidError
from admitone.gateway.guards import process_services
from admitone.gateway.problems import problem_spec

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
)
async def payment_webhook(data: WebhookIn, payments: PaymentService) -> WebhookReceived:
    await payments.handle_webhook(data)
    return WebhookReceived(received=True)


problem = problem_spec  # the name this module's routes use


WEBHOOK_PROBLEMS = {
    400: problem("WEBHOOK_BODY_INVALID: signed, but not an event (or BAD_REQUEST)"),
    401: problem("SIGNATURE_INVALID: missing, malformed, stale or forged signature"),
    404: problem("NOT_FOUND: this provider is not the server's ADMITONE_PAYMENT_PROVIDER"),
    503: problem("SERVICE_TEMPORARILY_UNAVAILABLE: the database did not answer (Retry-After)"),
}


class _EventBodyOperation(Operation):
    """Documents the body the webhook reads itself (raw bytes, for the signature)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_body = RequestBody(required=True, description=(
            "The provider's event exactly as it sent it (the signature covers these bytes)"
        ), content={"application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT))})


@post(
    "/api/v1/payments/webhook/razorpay", tags=["payments"], status_code=200,
    operation_class=_EventBodyOperation, responses=WEBHOOK_PROBLEMS,
    summary="Razorpay webhook (payment.captured, order.paid, payment.failed, refund.processed)",
    description=(
        "Verified by the razorpay SDK (`utility.verify_webhook_signature`): `X-Razorpay-Signature`"
        " is the hex HMAC-SHA256 of the raw body with the webhook secret. `X-Razorpay-Event-Id` "
        "is recorded, so a redelivered event changes nothing. A capture for another amount or "
        "currency than the booking's is flagged and refunded, never confirmed. A failed attempt "
        "keeps the seats held: the fan may retry in Checkout until the payment window closes."
    ),
)
async def razorpay_webhook(
    request: Request[Any, Any, Any], provider_payments: ProviderPayments,
    signature: Annotated[str | None, Parameter(header="X-Razorpay-Signature")] = None,
    event_id: Annotated[str | None, Parameter(header="X-Razorpay-Event-Id")] = None,
) -> WebhookReceived:
    await provider_payments.razorpay_webhook(await request.body(), signature, event_id)
    return WebhookReceived(received=True)


@post(
    "/api/v1/payments/webhook/stripe", tags=["payments"], status_code=200,
    operation_class=_EventBodyOperation, responses=WEBHOOK_PROBLEMS,
    summary="Stripe webhook (checkout.session.completed, payment_intent.*, charge.refunded)",
    description=(
        "Verified by `stripe.Webhook.construct_event` with the endpoint secret: "
        "`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"t.body\">`, at most "
        "ADMITONE_WEBHOOK_TOLERANCE_SECONDS old. The event id is recorded, so a redelivered event "
        "changes nothing; `checkout.session.completed` and `payment_intent.succeeded` of one "
        "payment confirm it once. A capture for another amount or currency than the booking's "
        "is flagged and refunded, never confirmed; `checkout.session.expired` fails the payment."
    ),
)
async def stripe_webhook(
    request: Request[Any, Any, Any], provider_payments: ProviderPayments,
    signature: Annotated[str | None, Parameter(header="Stripe-Signature")] = None,
) -> WebhookReceived:
    await provider_payments.stripe_webhook(await request.body(), signature)
    return WebhookReceived(received=True)


PROVIDER_ROUTES = [razorpay_webhook, stripe_webhook]


ROUTES = [payment_webhook, *PROVIDER_ROUTES]
