"""A stub of Stripe's API (the endpoints admitone calls) and of its webhooks.

Shapes follow Stripe's API reference: form-encoded requests with bracketed keys, Bearer auth
with the secret key, ``Idempotency-Key`` replays answered with the first response (another
body under the same key is an ``idempotency_error``), objects with ``id`` and ``object``, errors
as ``{"error": {"type": "invalid_request_error", "message": …}}``. Endpoints: ``POST
/v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``, ``GET
/v1/payment_intents/{id}``, ``POST /v1/refunds``. Webhooks carry ``Stripe-Signature:
t=<unix>,v1=<hex HMAC-SHA256 of "t.body" with the endpoint secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from tests.payment_stubs.asgi import Answer, Router, StubRequest

SECRET_KEY = "sk_test_StubSecretKey0123456789"
WEBHOOK_SECRET = "whsec_StubEndpointSecret0123456789"


def _invalid(message: str, code: str = "parameter_invalid", status: int = 400) -> Answer:
    return status, {"error": {"type": "invalid_request_error", "code": code, "message": message}}


def _metadata(form: dict[str, str], prefix: str) -> dict[str, str]:
    head = f"{prefix}["
    return {k[len(head):-1]: v for k, v in form.items() if k.startswith(head) and k.endswith("]")
            and "[" not in k[len(head):-1]}


class StripeStub:
    """The stub's books and its test controls."""

    def __init__(self) -> None:
        self.router = Router()
        self.url = ""  # set once served: the hosted Checkout page lives "there"
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[bytes, Answer]] = {}
        self.refuse_refunds = 0  # the next N refunds are refused (400 invalid_request_error)
        self._routes()

    def _routes(self) -> None:
        r = self.router

        def guarded(handler: Any) -> Any:
            def run(request: StubRequest) -> Answer:
                if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
                    return 401, {"error": {"type": "invalid_request_error",
                                           "message": "Invalid API Key provided"}}
                key = request.headers.get("idempotency-key")
                if request.method == "POST" and key:
                    seen = self.idempotent.get(key)
                    if seen is not None:
                        if seen[0] != request.body:
                            return 400, {"error": {"type": "idempotency_error", "message": (
                                "Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with.")}}
                        return seen[1]
                answer: Answer = handler(request)
                if request.method == "POST" and key and answer[0] < 500:
                    self.idempotent[key] = (request.body, answer)
                return answer
            return run

        @r.route("POST", "/v1/checkout/sessions")
        @guarded
        def create_session(request: StubRequest) -> Answer:
            form = request.form()
            try:
                amount = int(form["line_items[0][price_data][unit_amount]"])
                quantity = int(form["line_items[0][quantity]"])
                currency = form["line_items[0][price_data][currency]"]
            except (KeyError, ValueError):
                return _invalid("line_items[0] needs price_data and quantity")
            expires_at = int(form.get("expires_at", time.time() + 86400))
            if not 1800 <= expires_at - time.time() + 5 <= 86400 + 5:
                return _invalid("expires_at must be between 30 minutes and 24 hours from now")
            for needed in ("success_url", "mode"):
                if needed not in form:
                    return _invalid(f"Missing required param: {needed}.", "parameter_missing")
            session_id = f"cs_test_{secrets.token_hex(12)}"
            session = {
                "id": session_id, "object": "checkout.session", "mode": form["mode"],
                "amount_total": amount * quantity, "amount_subtotal": amount * quantity,
                "currency": currency, "client_reference_id": form.get("client_reference_id"),
                "customer_email": form.get("customer_email"), "livemode": False,
                "metadata": _metadata(form, "metadata"),
                "payment_intent_metadata": _metadata(form, "payment_intent_data[metadata]"),
                "payment_intent": None, "payment_status": "unpaid", "status": "open",
                "success_url": form["success_url"], "cancel_url": form.get("cancel_url"),
                "url": f"{self.url}/c/pay/{session_id}", "created": int(time.time()),
                "expires_at": expires_at,
            }
            self.sessions[session_id] = session
            return 200, self._public(session)

        @r.route("GET", "/v1/checkout/sessions/(?P<session>[^/]+)")
        @guarded
        def retrieve_session(request: StubRequest) -> Answer:
            session = self.sessions.get(request.params["session"])
            if session is None:
                return _invalid(f"No such checkout.session: '{request.params['session']}'",
                                "resource_missing", 404)
            return 200, self._public(session)

        @r.route("POST", "/v1/checkout/sessions/(?P<session>[^/]+)/expire")
        @guarded
        def expire_session(request: StubRequest) -> Answer:
            session = self.sessions.get(request.params["session"])
            if session is None:
                return _invalid("No such checkout.session", "resource_missing", 404)
            if session["status"] != "open":
                return _invalid("Only Checkout Sessions with a status of open can be expired.",
                                "checkout_session_not_open")
            session["status"] = "expired"
            return 200, self._public(session)

        @r.route("GET", "/v1/payment_intents/(?P<intent>[^/]+)")
        @guarded
        def retrieve_intent(request: StubRequest) -> Answer:
            intent = self.intents.get(request.params["intent"])
            if intent is None:
                return _invalid("No such payment_intent", "resource_missing", 404)
            return 200, intent

        @r.route("POST", "/v1/refunds")
        @guarded
        def create_refund(request: StubRequest) -> Answer:
            form = request.form()
            intent = self.intents.get(form.get("payment_intent", ""))
            if intent is None:
                return _invalid("No such payment_intent", "resource_missing", 404)
            if self.refuse_refunds > 0:
                self.refuse_refunds -= 1
                return _invalid("This charge cannot be refunded right now.", "charge_disputed")
            left = intent["amount_received"] - intent["amount_refunded"]
            amount = int(form.get("amount", left))
            if left <= 0:
                return _invalid("Charge has already been refunded.", "charge_already_refunded")
            if amount > left:
                return _invalid("Refund amount is greater than unrefunded amount on charge",
                                "amount_too_large")
            refund = {
                "id": f"re_{secrets.token_hex(12)}", "object": "refund", "amount": amount,
                "currency": intent["currency"], "payment_intent": intent["id"],
                "charge": intent["latest_charge"], "status": "succeeded",
                "metadata": _metadata(form, "metadata"), "created": int(time.time()),
            }
            self.refunds[refund["id"]] = refund
            intent["amount_refunded"] += amount
            return 200, refund

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if k != "payment_intent_metadata"}

    # Test controls: what a fan does in Checkout ---------------------------------------------

    def session_for(self, payment_id: str) -> dict[str, Any]:
        with self.router.lock:
            return next(s for s in self.sessions.values()
                        if s["client_reference_id"] == payment_id)

    def complete(self, session_id: str, *, amount: int | None = None,
                 currency: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The fan pays: the session is complete and paid, its PaymentIntent succeeded
        (``amount`` / ``currency`` override what was charged, to pretend tampering)."""
        with self.router.lock:
            session = self.sessions[session_id]
            charged = session["amount_total"] if amount is None else amount
            intent = {
                "id": f"pi_{secrets.token_hex(12)}", "object": "payment_intent",
                "amount": charged, "amount_received": charged, "amount_refunded": 0,
                "currency": currency or session["currency"], "status": "succeeded",
                "metadata": session["payment_intent_metadata"],
                "latest_charge": f"ch_{secrets.token_hex(12)}", "livemode": False,
            }
            self.intents[intent["id"]] = intent
            session.update(status="complete", payment_status="paid", payment_intent=intent["id"],
                           amount_total=charged, currency=intent["currency"])
            return self._public(session), dict(intent)

    def fail_attempt(self, session_id: str) -> dict[str, Any]:
        """A declined card: the session stays open, its intent reports the failure."""
        with self.router.lock:
            session = self.sessions[session_id]
            return {"id": f"pi_{secrets.token_hex(12)}", "object": "payment_intent",
                    "amount": session["amount_total"], "amount_received": 0,
                    "currency": session["currency"], "status": "requires_payment_method",
                    "metadata": session["payment_intent_metadata"],
                    "last_payment_error": {"code": "card_declined"}}

    def expire(self, session_id: str) -> dict[str, Any]:
        with self.router.lock:
            session = self.sessions[session_id]
            session["status"] = "expired"
            return self._public(session)

    def charge_of(self, intent: dict[str, Any]) -> dict[str, Any]:
        with self.router.lock:
            current = self.intents[intent["id"]]
            return {"id": current["latest_charge"], "object": "charge",
                    "payment_intent": current["id"], "amount": current["amount_received"],
                    "amount_refunded": current["amount_refunded"], "currency": current["currency"],
                    "refunded": current["amount_refunded"] >= current["amount_received"]}

    @staticmethod
    def event(event_type: str, obj: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
              at: int | None = None, event_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe would POST for ``event_type`` about ``obj``."""
        body = json.dumps({
            "id": event_id or f"evt_{secrets.token_hex(12)}", "object": "event",
            "api_version": "2025-10-29.clover", "created": int(time.time()),
            "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": event_type,
        }).encode()
        timestamp = int(time.time()) if at is None else at
        signed = f"{timestamp}.".encode() + body
        signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json",
                      "Stripe-Signature": f"t={timestamp},v1={signature}"}
