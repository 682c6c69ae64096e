"""Payments' pages: the real provider's pay and return pages, and the sandbox provider's.

``GET /payments/{paymentId}/pay`` is the ``paymentUrl`` checkout answers for Razorpay and
Stripe. With Stripe it redirects (303) to the payment's Checkout Session; with Razorpay it shows
Razorpay Checkout (its script, opened on the order), and where the script cannot load the same
button posts a plain form to Razorpay's hosted checkout. Razorpay posts the result to
``/payments/{paymentId}/razorpay/callback``; Stripe sends the fan to
``/payments/stripe/return?session_id=…``. Both are checked with the provider and settled before
the fan sees the booking, so the page does not wait for the webhook.

The sandbox (``SANDBOX_ROUTES``, on unless ADMITONE_SANDBOX_PAYMENTS=0): ``GET /sandbox/pay/
{paymentId}`` is the page a fan pays on; its buttons post to ``/sandbox/payments/{paymentId}/
complete``, which also takes JSON (with test controls) from scripts and tests, and makes the
sandbox send its signed webhook.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.response import Redirect, Template

from admitone.booking_core.payments.models import CompleteIn, CompleteOut, SandboxChargeOut
from admitone.booking_core.payments.providers import PayPage, ProviderPayments
from admitone.booking_core.payments.sandbox import SandboxGateway
from admitone.errors import NotFoundError, PaymentNotFoundError
from admitone.gateway.assets import static_url
from admitone.gateway.rendering import PAGE_HEADERS

FORM = "application/x-www-form-urlencoded"
_encode = msgspec.json.Encoder(decimal_format="string").encode
_OUTCOME = Schema(type=OpenAPIType.STRING, enum=["SUCCESS", "FAILED"])


class _CompleteOperation(Operation):
    """Documents the two bodies the complete endpoint reads (it parses them itself)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_body = RequestBody(required=True, content={
            "application/json": OpenAPIMediaType(schema=Schema(
                type=OpenAPIType.OBJECT, required=["outcome"], properties={
                    "outcome": _OUTCOME,
                    "delaySeconds": Schema(type=OpenAPIType.NUMBER, minimum=0, maximum=600,
                                           description="deliver the webhook this much later"),
                    "duplicate": Schema(type=OpenAPIType.BOOLEAN,
                                        description="deliver the webhook twice"),
                    "drop": Schema(type=OpenAPIType.BOOLEAN, description=(
                        "record the outcome but never deliver the webhook (reconciliation "
                        "finds it)")),
                })),
            FORM: OpenAPIMediaType(schema=Schema(
                type=OpenAPIType.OBJECT, required=["outcome"], properties={"outcome": _OUTCOME})),
        })


def _on(found: SandboxGateway | None) -> SandboxGateway:
    if found is None:
        raise NotFoundError("The sandbox payment gateway is off")
    return found


@get("/sandbox/pay/{payment_id:str}", tags=["sandbox"], summary="The sandbox's payment page",
     include_in_schema=True)
async def sandbox_pay_page(payment_id: str, sandbox: SandboxGateway | None) -> Template:
    try:
        charge: SandboxChargeOut | None = await _on(sandbox).charge(payment_id)
    except PaymentNotFoundError:
        charge = None
    return Template(
        template_name="sandbox/pay.html", context={"charge": charge, "payment_id": payment_id},
        status_code=200 if charge else 404, headers={"Cache-Control": "no-store"},
    )


@post("/sandbox/payments/{payment_id:str}/complete", tags=["sandbox"], status_code=200,
      operation_class=_CompleteOperation,
      summary="Finish a sandbox charge: the sandbox sends its signed webhook",
      description=(
          "JSON `{outcome, delaySeconds?, duplicate?, drop?}` answers the delivery as JSON; the "
          "payment page's form (`outcome=SUCCESS|FAILED`) is redirected (303) to the charge's "
          "return URL. 404 for an unknown charge, 409 once it is paid."
      ))
async def complete_payment(
    request: Request[Any, Any, Any], payment_id: str, sandbox: SandboxGateway | None
) -> Response[Any]:
    sandbox = _on(sandbox)
    body = await request.body()
    from_form = request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM
    command = _form_command(body) if from_form else _json_command(body)
    done: CompleteOut = await sandbox.complete(request.app, payment_id, command)
    if from_form:
        charge = await sandbox.charge(payment_id)
        return Redirect(path=charge.return_url, status_code=303)
    return Response(_encode(done), media_type="application/json")


@get("/sandbox/payments/{payment_id:str}", tags=["sandbox"],
     summary="A charge as the sandbox gateway sees it")
async def charge_status(payment_id: str, sandbox: SandboxGateway | None) -> SandboxChargeOut:
    return await _on(sandbox).charge(payment_id)


def _json_command(body: bytes) -> CompleteIn:
    try:
        return msgspec.json.decode(body, type=CompleteIn)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
        raise ValidationException(detail=f"Invalid body: {exc}") from None


def _form_command(body: bytes) -> CompleteIn:
    try:
        fields = parse_qs(body.decode("latin-1"), max_num_fields=10)
    except ValueError:
        raise ValidationException(detail="Too many form fields") from None
    outcome = fields.get("outcome", [""])[0]
    if outcome not in {"SUCCESS", "FAILED"}:
        raise ValidationException(detail="outcome must be SUCCESS or FAILED")
    return CompleteIn(outcome="SUCCESS" if outcome == "SUCCESS" else "FAILED")


SANDBOX_ROUTES = [sandbox_pay_page, complete_payment, charge_status]


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def razorpay_policy(page: PayPage) -> str:
    """The page's Content-Security-Policy: ours, plus Razorpay's script, frames and form."""
    script, api = _origin(page.script_url), _origin(page.hosted_checkout_url)
    return (
        f"default-src 'self'; script-src 'self' {script}; frame-src {script} {api}; "
        f"connect-src 'self' {script} {api}; img-src 'self' data: https:; "
        "style-src 'self' 'unsafe-inline'; base-uri 'none'; "
        f"form-action 'self' {api}; frame-ancestors 'none'"
    )


@get("/payments/{payment_id:str}/pay", tags=["payments"], include_in_schema=True,
     summary="The fan's payment page (Razorpay Checkout, or a redirect to Stripe Checkout)")
async def pay_page(provider_payments: ProviderPayments, payment_id: str) -> Response[Any]:
    page = await provider_payments.pay_page(payment_id)
    if page.redirect_url:
        return Redirect(path=page.redirect_url, status_code=303,
                        headers={"Cache-Control": "no-store"})
    return Template(
        template_name="payments/razorpay.html",
        context={"page": page, "script": static_url("js/razorpay-pay.js")},
        headers={**PAGE_HEADERS, "Content-Security-Policy": razorpay_policy(page)},
    )


@post("/payments/{payment_id:str}/razorpay/callback", tags=["payments"], status_code=303,
      summary="Razorpay Checkout's callback: signature verified by the SDK, then the booking",
      description=(
          "Form fields `razorpay_payment_id`, `razorpay_order_id`, `razorpay_signature` (the "
          "HMAC-SHA256 of `order_id|payment_id` with the key secret), verified with "
          "`utility.verify_payment_signature`; a forged one is 401 SIGNATURE_INVALID. A failed "
          "attempt (fields `error[…]`) goes back to the pay page."
      ))
async def razorpay_callback(
    request: Request[Any, Any, Any], provider_payments: ProviderPayments, payment_id: str
) -> Redirect:
    body = await request.body()
    try:
        parsed = parse_qs(body.decode("latin-1"), max_num_fields=20)
    except ValueError:
        raise ValidationException(detail="Too many form fields") from None
    fields = {key: values[0] for key, values in parsed.items()}
    target = await provider_payments.razorpay_callback(payment_id, fields)
    return Redirect(path=target, status_code=303)


@get("/payments/stripe/return", tags=["payments"], status_code=303,
     summary="Where Stripe Checkout sends the fan back: the session is retrieved, then the booking")
async def stripe_return(provider_payments: ProviderPayments, session_id: str) -> Redirect:
    target = await provider_payments.stripe_return(session_id)
    return Redirect(path=target, status_code=303)


ROUTES = [pay_page, razorpay_callback, stripe_return]
