"""Payments' pages: the real provider's pay and return pages, and the sandbox provider's.

``GET /payments/{paymentId}/pay`` is the ``paymentUrl`` checkout answers for Razorpay and
Stripe. With Stripe it redirects (303) to the payment's Checkout Session; with Razorpay it shows
Razorpay Checkout (its script, opened on the order), and where the script cannot load the same
button posts a plain form to Razorpay's hosted checkout. Razorpay posts the result to
``/payments/{paymentId}/razorpay/callback``; Stripe sends the fan to
``/payments/stripe/return?session_id=…``. Both are checked with the provider and settled before
the fan sees the booking, so the page does not wait for the webhook.

The sandbox (``SANDBOX_ROUTES``, a development mode served only with
ADMITONE_SANDBOX_PAYMENTS=1): ``GET /sandbox/pay/{paymentId}`` is the page a fan pays on; its
buttons post to ``/sandbox/payments/{paymentId}/complete``, which also takes JSON (with test
controls) from scripts and tests, and makes the sandbox send its signed webhook. Completing
needs the fan's own token: ``Authorization: Bearer`` (access token or booking token) for JSON,
the form's ``token`` field (filled from this tab's storage by ``static/js/sandbox-pay.js``,
as the checkout page keeps the token there) for the page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.response import Redirect, Template

from admitone.admission.services import AdmissionServices
from admitone.admission.tokens import AccessTokenClaims, BookingTokenClaims
from admitone.booking_core.payments.models import CompleteIn, CompleteOut, SandboxChargeOut
from admitone.booking_core.payments.providers import PayPage, ProviderPayments
from admitone.booking_core.payments.sandbox import SandboxGateway
from admitone.errors import NotFoundError, PaymentNotFoundError, TokenInvalidError
from admitone.gateway import i18n
from admitone.gateway.assets import static_url
from admitone.gateway.guards import ACCESS_SECURITY, verified_access
from admitone.gateway.rendering import PAGE_HEADERS, render_page

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
                type=OpenAPIType.OBJECT, required=["outcome", "token"], properties={
                    "outcome": _OUTCOME,
                    "token": Schema(type=OpenAPIType.STRING, description=(
                        "the fan's access token (or booking token) that owns the payment")),
                })),
        })


# The fan's access token for one payment's sandbox page, for a fan without JavaScript: set by
# the no-JS checkout form (seats/pages.py), HttpOnly and SameSite=Strict, so only our own pages'
# form posts carry it and no script reads it; the form's ``token`` field is the JS way.
SANDBOX_TOKEN_COOKIE = "sandbox_token"  # noqa: S105 - a cookie name, not a secret


SANDBOX_COOKIE_PATH = "/sandbox"  # the payment page and its form's post


def _on(found: SandboxGateway | None) -> SandboxGateway:
    if found is None:
        raise NotFoundError("The sandbox payment gateway is off")
    return found


@get("/sandbox/pay/{payment_id:str}", tags=["sandbox"], summary="The sandbox's payment page",
     include_in_schema=True)
async def sandbox_pay_page(
    request: Request[Any, Any, Any], payment_id: str, sandbox: SandboxGateway | None
) -> Template:
    gateway = _on(sandbox)
    try:
        charge: SandboxChargeOut | None = await gateway.charge(payment_id)
    except PaymentNotFoundError:
        charge = None
    owner = await gateway.payment_owner(payment_id) if charge else None
    loc = i18n.locale_for(request)
    title = (loc.t("sandbox.pay.title_amount", amount=charge.amount, currency=charge.currency)
             if charge else loc.t("sandbox.pay.title"))
    return render_page(
        request, loc, "sandbox/pay.html", page_title=title, status_code=200 if charge else 404,
        charge=charge, payment_id=payment_id, booking_id=owner[0] if owner else "",
        show_id=owner[2] if owner else "",
        cookie_token=bool(request.cookies.get(SANDBOX_TOKEN_COOKIE)),
    )


async def _caller(
    admission: AdmissionServices, token: str | None
) -> AccessTokenClaims | BookingTokenClaims:
    """The fan behind ``token``: an unrevoked access token, or a booking token."""
    if not token:
        raise TokenInvalidError(
            "Send the fan's own token: 'Authorization: Bearer <accessToken or bookingToken>'"
            " (the payment page's form sends it as the field 'token')"
        )
    if admission.tokens.is_booking_token(token):
        return admission.tokens.verify_booking_token(token)
    return await verified_access(admission, token, None)


@post("/sandbox/payments/{payment_id:str}/complete", tags=["sandbox"], status_code=200,
      operation_class=_CompleteOperation, security=ACCESS_SECURITY,
      summary="Finish a sandbox charge: the sandbox sends its signed webhook",
      description=(
          "Development only (ADMITONE_SANDBOX_PAYMENTS=1). Needs the fan's own token: header "
          "`Authorization: Bearer <accessToken or bookingToken>` of the visitor who made the "
          "booking (the form sends it as the field `token`); none or a bad one → 401 "
          "TOKEN_INVALID, another fan's → 404 PAYMENT_NOT_FOUND, and nothing changes. JSON "
          "`{outcome, delaySeconds?, duplicate?, drop?}` answers the delivery as JSON; the "
          "payment page's form (`outcome=SUCCESS|FAILED&token=…`) is redirected (303) to the "
          "charge's return URL. 404 for an unknown charge, 409 once it is paid. Delayed "
          "deliveries waiting in one process are capped (2 per payment, 200 in all): beyond, "
          "429 SANDBOX_DELIVERIES_FULL with Retry-After, and the charge does not change."
      ),
      responses={
          200: ResponseSpec(data_container=CompleteOut, generate_examples=False, description=(
              "JSON: the delivery (DELIVERED, UNDELIVERED, SCHEDULED or DROPPED)")),
          303: ResponseSpec(data_container=None, generate_examples=False,
                            description="The form: back to the booking"),
      })
async def complete_payment(
    request: Request[Any, Any, Any], payment_id: str, sandbox: SandboxGateway | None,
    admission: AdmissionServices,
) -> Response[Any]:
    sandbox = _on(sandbox)
    body = await request.body()
    from_form = request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM
    if from_form:
        command, token = _form_command(body)
        token = token or request.cookies.get(SANDBOX_TOKEN_COOKIE)
    else:
        command, token = _json_command(body), _bearer(request)
    caller = await _caller(admission, token)
    done: CompleteOut = await sandbox.complete(request.app, payment_id, command, caller)
    if from_form:
        charge = await sandbox.charge(payment_id)
        return Redirect(path=charge.return_url, status_code=303)
    return Response(_encode(done), media_type="application/json")


@get("/sandbox/payments/{payment_id:str}", tags=["sandbox"],
     summary="A charge as the sandbox gateway sees it")
async def charge_status(payment_id: str, sandbox: SandboxGateway | None) -> SandboxChargeOut:
    return await _on(sandbox).charge(payment_id)


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _json_command(body: bytes) -> CompleteIn:
    try:
        return msgspec.json.decode(body, type=CompleteIn)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
        raise ValidationException(detail=f"Invalid body: {exc}") from None


def _form_command(body: bytes) -> tuple[CompleteIn, str | None]:
    try:
        fields = parse_qs(body.decode("latin-1"), max_num_fields=10)
    except ValueError:
        raise ValidationException(detail="Too many form fields") from None
    outcome = fields.get("outcome", [""])[0]
    if outcome not in {"SUCCESS", "FAILED"}:
        raise ValidationException(detail="outcome must be SUCCESS or FAILED")
    token = fields.get("token", [""])[0].strip() or None
    return CompleteIn(outcome="SUCCESS" if outcome == "SUCCESS" else "FAILED"), token


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
