"""Payment webhooks of the real providers, one route each, and the operator's refunds.

Each webhook reads the raw body (the signature covers its exact bytes), hands it to the
provider's SDK for verification and to the booking core for settlement, and answers 200 as
soon as that one transaction commits; refunds it causes are sent by the outbox worker. A bad
signature is 401 and changes nothing; the same event twice changes nothing the second time.
The sandbox keeps its own route, ``POST /api/v1/payments/webhook`` (``routes/payments.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import Parameter

from admitone.booking_core.payments.models import (
    RefundOut,
    RefundRetryOut,
    RefundState,
    WebhookReceived,
)
from admitone.booking_core.payments.providers import ProviderPayments
from admitone.gateway.auth import operator_guard
from admitone.gateway.routes.admin_rooms import actor


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """An RFC 9457 problem (``application/problem+json``) with our ``error`` code."""

    type: str
    title: str
    status: int
    detail: str
    error: str


def problem(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, media_type="application/problem+json",
                        description=description, generate_examples=False)


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


@get(
    "/api/v1/admin/refunds", tags=["operator"], guards=[operator_guard],
    security=[{"operatorToken": []}],
    summary="Refunds by status: FAILED ones were refused by the provider after every retry",
    description=(
        "A refund the provider refuses is tried again by the outbox worker with backoff, up to "
        "5 times; then it is FAILED, with the provider's last answer in `lastError` and an audit "
        "row (`refund`, `FAILED`). `POST …/refunds/{refundId}/retry` sends it again."
    ),
    responses={401: problem("OPERATOR_UNAUTHORIZED")},
)
async def list_refunds(
    provider_payments: ProviderPayments, status: RefundState = "FAILED",
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> list[RefundOut]:
    return await provider_payments.refunds(status, limit)


@post(
    "/api/v1/admin/refunds/{refund_id:str}/retry", tags=["operator"], guards=[operator_guard],
    security=[{"operatorToken": []}], status_code=202,
    summary="Send a FAILED refund to the provider again",
    responses={401: problem("OPERATOR_UNAUTHORIZED"), 404: problem("NOT_FOUND: no such refund"),
               409: problem("CONFLICT: the refund is not FAILED")},
)
async def retry_refund(
    request: Request[Any, Any, Any], provider_payments: ProviderPayments, refund_id: str
) -> RefundRetryOut:
    return await provider_payments.retry_refund(refund_id, actor(request))


ROUTES = [razorpay_webhook, stripe_webhook, list_refunds, retry_refund]
