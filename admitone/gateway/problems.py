"""Every error as RFC 9457 ``application/problem+json`` with our ``error`` code.

Admitone's errors map by class to a status (a dependency that does not answer arrives here as
``DependencyUnavailableError``, translated where the driver was called); framework errors
(validation, unknown route, body too large) get problems of their own. Anything else is a bug,
logged and answered as a retryable 503. Nothing answers a bare 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec

from admitone import errors

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
_encode = msgspec.json.Encoder(decimal_format="string").encode

_STATUS: list[tuple[type[errors.AdmitoneError], int]] = [
    (errors.LockExpiredError, 410),
    (errors.QueuePlaceGoneError, 410),
    (errors.QueueNotOpenError, 425),
    (errors.ProofOfWorkError, 403),
    (errors.NotFoundError, 404),
    (errors.InvalidRequestError, 422),
    (errors.IdempotencyKeyReusedError, 422),
    (errors.IdempotencyKeyMissingError, 400),
    (errors.ConflictError, 409),
    (errors.TokenInvalidError, 401),
    (errors.TokenWrongShowError, 403),
    (errors.OperatorAuthError, 401),
    (errors.SignatureInvalidError, 401),
    (errors.RateLimitedError, 429),
    (errors.DependencyUnavailableError, 503),
    (errors.StreamLimitError, 503),
]

_FRAMEWORK_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    413: ("BODY_TOO_LARGE", "Request body too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    429: ("RATE_LIMITED", "Too many requests"),
}


def help_slug(code: str) -> str:
    """``SEAT_UNAVAILABLE`` -> ``seat-unavailable``: the code's page under ``/help/``."""
    return code.lower().replace("_", "-")


def type_uri(code: str) -> str:
    """A problem's ``type``: the page that explains its code, ``/help/<code-with-dashes>``
    (a URI reference resolved against the API's own address, RFC 9457 section 3.1.1)."""
    return f"/help/{help_slug(code)}"


def status_of(exc: errors.AdmitoneError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[bytes]:
    body = {
        "type": type_uri(code),
        "title": title,
        "status": status,
        "detail": detail,
        "error": code,
        **context,
    }
    return Response(
        content=_encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers or {}
    )


def domain_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, errors.AdmitoneError)  # noqa: S101 - registered for this class only
    headers = {}
    retry_after = getattr(exc, "retry_after_seconds", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(exc, errors.DependencyUnavailableError):
        log.warning("dependency_unavailable", error=exc.code, cause=repr(exc.__cause__),
                    **(exc.context | {"dependency": exc.dependency}))
    return problem(status_of(exc), exc.code, exc.title, exc.detail, headers=headers, **exc.context)


def validation_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, ValidationException)  # noqa: S101 - registered for this class only
    extra = exc.extra if isinstance(exc.extra, list) else []
    detail = str(exc.detail or "The request is not valid")
    return problem(400, "VALIDATION_ERROR", "Invalid request", detail, errors=extra)


def http_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for this class only
    status = exc.status_code
    code, title = _FRAMEWORK_CODES.get(status, ("HTTP_ERROR", "Request failed"))
    if status >= 500:  # noqa: PLR2004 - server-side framework errors are logged and hidden
        log.error("http_error", status=status, detail=exc.detail)
        return problem(
            503,
            "SERVICE_TEMPORARILY_UNAVAILABLE",
            "Service temporarily unavailable",
            "The request could not be completed; please try again.",
            headers={"Retry-After": "5"},
        )
    return problem(status, code, title, str(exc.detail or title), headers=dict(exc.headers or {}))


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """A bug: logged in full, answered as a retryable problem without internals."""
    log.exception("unhandled_error", path=request.url.path, error=repr(exc))
    return problem(
        503,
        "SERVICE_TEMPORARILY_UNAVAILABLE",
        "Service temporarily unavailable",
        "Something went wrong on our side; please try again.",
        headers={"Retry-After": "5"},
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    errors.AdmitoneError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}


# Every problem code, documented -------------------------------------------------------------
#
# What the OpenAPI document (gateway/openapi.py) and the /help/<code> pages (gateway/help) are
# made from. A new error class in admitone/errors.py needs one line in EXAMPLES (a realistic
# instance: it is the example the document shows, and what its help page explains), and each
# route that can raise it names its code in ROUTE_PROBLEMS. tests/integration/test_api_docs.py
# fails until both are there.

_SHOW = "3f6c2a9e-8b1d-4e57-9a0c-2d4b7e1f5a63"
_LOCK = "b2e4d6f8-1a3c-4e5f-8091-a2b3c4d5e6f7"
_BOOKING = "7a1e5c3b-9d2f-4b6a-8e0c-1f3a5b7c9d2e"
_PAYMENT = "c4d2a8f6-3b1e-4a9c-b5d7-e2f0a4c6b8d1"


@dataclass(frozen=True)
class ProblemDoc:
    """One problem code: its status, title, a realistic example body, and what to do."""

    code: str
    status: int
    title: str
    example: dict[str, Any]
    advice: str


def _from(exc: errors.AdmitoneError, advice: str) -> ProblemDoc:
    status = status_of(exc)
    body = {"type": type_uri(exc.code), "title": exc.title, "status": status,
            "detail": exc.detail, "error": exc.code, **exc.context}
    return ProblemDoc(exc.code, status, exc.title, msgspec.to_builtins(body), advice)


def _framework(status: int, code: str, title: str, detail: str, advice: str,
               **context: Any) -> ProblemDoc:
    body = {"type": type_uri(code), "title": title, "status": status, "detail": detail,
            "error": code, **context}
    return ProblemDoc(code, status, title, body, advice)


_WHEN = datetime(2026, 12, 18, 13, 30, tzinfo=UTC)

# One line per code: the example the document shows, and what a client does about it.
EXAMPLES: dict[str, ProblemDoc] = {doc.code: doc for doc in [
    _framework(400, "VALIDATION_ERROR", "Invalid request", "Validation failed for POST "
               "/api/v1/bookings/lock", "Fix the fields named in errors[] and send again.",
               errors=[{"message": "Expected `array`, got `str`", "key": "seatIds",
                        "source": "body"}]),
    _framework(400, "BAD_REQUEST", "Bad request", "Input data was truncated",
               "The body is not valid JSON (or not the declared type); check its syntax."),
    _framework(405, "METHOD_NOT_ALLOWED", "Method not allowed", "Method not allowed",
               "Use one of the methods in the Allow header."),
    _framework(413, "BODY_TOO_LARGE", "Request body too large", "Request Entity Too Large",
               "Bodies are at most 64 KiB."),
    _framework(415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type",
               "Unsupported media type", "Send the body as application/json."),
    _framework(401, "UNAUTHORIZED", "Unauthorized", "Unauthorized",
               "Send the credentials this route asks for."),
    _framework(403, "FORBIDDEN", "Forbidden", "Forbidden", "This caller may not do that."),
    _framework(400, "HTTP_ERROR", "Request failed", "Request failed",
               "The request could not be handled as sent."),
    _from(errors.DependencyUnavailableError("PostgreSQL"),
          "Nothing was changed. Retry after Retry-After seconds."),
    _from(errors.NotFoundError("No movie has the id 9b2f4d6a-1c3e-4f5a-8b7c-0d2e4f6a8b1c"),
          "Check the id; it may never have existed or be gone."),
    _from(errors.ShowNotFoundError(f"No show has the id {_SHOW}"),
          "Check the show id; list shows with GET /api/v1/movies/{movieId}/shows."),
    _from(errors.LockNotFoundError(f"No lock {_LOCK} is yours"),
          "The lock is unknown or another visitor's: lock seats again."),
    _from(errors.BookingNotFoundError("No such booking"),
          "Unknown, or not the caller's: find it with POST /api/v1/bookings/lookup."),
    _from(errors.PaymentNotFoundError(f"No payment {_PAYMENT!r} is paid here"),
          "Check the payment id."),
    _from(errors.WaitingRoomNotFoundError(f"Show {_SHOW} has no waiting room"),
          "This show has no queue (yet): an operator sets one up."),
    _from(errors.DrawNotFoundError(f"Show {_SHOW} has no pre-queue draw"),
          "Only RANDOM_PREQUEUE rooms have a draw."),
    _from(errors.InvalidRequestError("seatIds names a seat more than once"),
          "The fields are well-formed but cannot be used together; fix and send again."),
    _from(errors.UnknownSeatsError(["K21"]), "Use seat ids from the show's seat map."),
    _from(errors.PaymentMismatchError(
        "The reported amount or currency differs from the payment's", paymentId=_PAYMENT,
        expectedAmount="400.00", expectedCurrency="INR"),
        "The gateway reported another amount than the booking's; nothing was confirmed."),
    _from(errors.IdentityCodeInvalidError("That code is wrong or has expired; ask for a new "
                                          "one"), "Ask for a new code and enter it."),
    _from(errors.IdempotencyKeyReusedError(
        "This Idempotency-Key was used with a different request body",
        idempotencyKey="checkout-5f1d2c3b"), "Use a new Idempotency-Key for a new request."),
    _from(errors.IdempotencyKeyMissingError("Send an Idempotency-Key header with checkout"),
          "Send an Idempotency-Key header (any unique string up to 255 characters)."),
    _from(errors.ConflictError("This lock has become a booking", lockId=_LOCK),
          "The resource is not in a state that allows this; read it again."),
    _from(errors.SeatUnavailableError(["C7", "C8"], ["C9", "C10"]),
          "Someone else holds these seats: offer alternativeSeats or the seat map."),
    _from(errors.SeatLimitError(6, 4, 3), "Release seats or ask for fewer."),
    _from(errors.LockExpiredError(_LOCK, _WHEN), "The hold ran out: choose seats again."),
    _from(errors.LockInCheckoutError("These seats are being paid for", lockId=_LOCK),
          "Wait for the payment's outcome; the booking tells it."),
    _from(errors.ShowClosedError("This show is not on sale", showId=_SHOW),
          "The show is over or not on sale; pick another show."),
    _from(errors.BookingStateError(
        "A PENDING booking cannot be cancelled; only a CONFIRMED one can",
        bookingStatus="PENDING"), "Read the booking: its status says what it can do."),
    _from(errors.CancellationClosedError(
        "Bookings can be cancelled up to 2 hours before the show", showTime=_WHEN,
        cancellableUntil=datetime(2026, 12, 18, 11, 30, tzinfo=UTC)),
        "Too close to the show to cancel."),
    _from(errors.QueueClosedError("The queue of this show is closed"),
          "Nobody can join now; the show's page says when the queue opens again."),
    _from(errors.TokenInvalidError("Send 'Authorization: Bearer <accessToken>'"),
          "Send the token this route takes; a forged, foreign or revoked one never works."),
    _from(errors.TokenExpiredError("The token has expired"),
          "Get a new one: rejoin the queue, or look the booking up again."),
    _from(errors.TokenWrongShowError("This access token is for another show",
                                     tokenShowId="0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b"),
          "Use the access token of this show (each show has its own queue)."),
    _from(errors.IdentityInvalidError("This identity token has expired; verify again"),
          "Verify the e-mail again and join with the new identity token."),
    _from(errors.IdentityRequiredError("This queue lets only verified fans join"),
          "Verify an e-mail first (POST …/identity), then join with X-Identity-Token."),
    _from(errors.OperatorAuthError("Send 'Authorization: Bearer <operator token>'"),
          "Send the operator token as a bearer token."),
    _from(errors.SignatureInvalidError("The X-Signature header is missing, malformed, stale "
                                       "or does not sign this body"),
          "Sign t.body with the webhook secret; nothing was changed."),
    _from(errors.WebhookBodyInvalidError("The Stripe event has no data.object"),
          "Correctly signed, but not an event this server reads; nothing was changed."),
    _from(errors.RateLimitedError(12), "Wait Retry-After seconds, then try again."),
    _from(errors.NetworkSeatLimitError(40, 38, 4),
          "Seats held from your network are capped; wait until some are booked or released."),
    _from(errors.StreamLimitError("This client has 20 live event streams open already"),
          "Close a stream you no longer read (another tab?), or retry after Retry-After."),
    _from(errors.SandboxDeliveriesFullError(
              "At most 2 delayed deliveries may wait for one payment", 30, paymentId=_PAYMENT),
          "Wait Retry-After seconds for the deliveries already scheduled, then try again."),
    _from(errors.QueueNotOpenError(_WHEN, 3600), "Come back at opensAt (Retry-After)."),
    _from(errors.QueuePlaceGoneError("Your place in the queue has expired"),
          "The place is over (left, or stopped polling): join again."),
    _from(errors.QueueUnavailableError(), "Retry after Retry-After seconds; the place is kept."),
    _from(errors.ProofOfWorkError("This room asks for a proof of work; solve GET …/challenge"),
          "Get a challenge, solve it, send X-PoW-Challenge and X-PoW-Nonce."),
    _from(errors.ProofOfWorkInvalidError("The nonce does not solve the challenge"),
          "Get a new challenge and solve it again."),
]}
# NOT_FOUND, RATE_LIMITED and SERVICE_TEMPORARILY_UNAVAILABLE are both framework and domain
# codes: the same code always has the same status and meaning, whoever raises it.

# Problems any route may answer, beyond its own line in ROUTE_PROBLEMS.
EVERY_ROUTE = ("SERVICE_TEMPORARILY_UNAVAILABLE",)
WITH_BODY = ("VALIDATION_ERROR", "BAD_REQUEST", "BODY_TOO_LARGE")  # routes that read a body
WITH_QUERY = ("VALIDATION_ERROR",)  # routes with checked query parameters
# What each Litestar guard answers (by the guard's function name).
GUARD_PROBLEMS: dict[str, tuple[str, ...]] = {
    "access_guard": ("TOKEN_INVALID", "TOKEN_EXPIRED"),
    "booking_guard": ("TOKEN_INVALID", "TOKEN_EXPIRED"),
    "operator_guard": ("OPERATOR_UNAUTHORIZED",),
    "webhook_signature_guard": ("SIGNATURE_INVALID",),
}
QUEUE_TOKEN = ("TOKEN_INVALID", "TOKEN_EXPIRED")
ROOM = ("WAITING_ROOM_NOT_FOUND", "QUEUE_UNAVAILABLE")

# Route ("METHOD /path" as the document writes it) -> the problem codes its handler raises, on
# top of EVERY_ROUTE, WITH_BODY / WITH_QUERY and its guards' GUARD_PROBLEMS. One line a route.
ROUTE_PROBLEMS: dict[str, tuple[str, ...]] = {
    "GET /healthz": (),
    "GET /readyz": (),
    "GET /.well-known/jwks.json": (),
    "POST /api/v1/tokens/introspect": (),
    "GET /api/v1/movies": (),
    "GET /api/v1/movies/{movieId}/shows": ("NOT_FOUND",),
    "POST /api/v1/queue/{showId}/join": (*QUEUE_TOKEN, *ROOM, "RATE_LIMITED", "QUEUE_CLOSED", "QUEUE_NOT_OPEN", "QUEUE_PLACE_EXPIRED", "PROOF_OF_WORK_REQUIRED", "PROOF_OF_WORK_INVALID", "IDENTITY_INVALID", "IDENTITY_REQUIRED"),  # noqa: E501
    "GET /api/v1/queue/{showId}/status": (*QUEUE_TOKEN, *ROOM, "QUEUE_PLACE_EXPIRED"),
    "DELETE /api/v1/queue/{showId}/leave": (*QUEUE_TOKEN, *ROOM),
    "GET /api/v1/queue/{showId}/progress": ROOM,
    "GET /api/v1/queue/{showId}/challenge": ROOM,
    "GET /api/v1/queue/{showId}/events": (*ROOM, "TOO_MANY_STREAMS"),
    "GET /api/v1/queue/{showId}/draw": ("WAITING_ROOM_NOT_FOUND", "DRAW_NOT_FOUND"),
    "POST /api/v1/queue/{showId}/identity": ("WAITING_ROOM_NOT_FOUND", "RATE_LIMITED", "IDENTITY_INVALID"),  # noqa: E501
    "POST /api/v1/queue/{showId}/identity/verify": ("WAITING_ROOM_NOT_FOUND", "IDENTITY_INVALID", "IDENTITY_CODE_INVALID"),  # noqa: E501
    "GET /shows/{showId}/queue": ("NOT_FOUND", "WAITING_ROOM_NOT_FOUND"),
    "GET /api/v1/shows/{showId}/seats": ("TOKEN_WRONG_SHOW", "SHOW_NOT_FOUND"),
    "POST /api/v1/bookings/lock": ("TOKEN_WRONG_SHOW", "SHOW_NOT_FOUND", "SHOW_CLOSED", "INVALID_REQUEST", "UNKNOWN_SEATS", "SEAT_UNAVAILABLE", "SEAT_LIMIT_EXCEEDED", "NETWORK_SEAT_LIMIT"),  # noqa: E501
    "PUT /api/v1/bookings/lock/{lockId}/extend": ("LOCK_NOT_FOUND", "LOCK_EXPIRED", "CONFLICT"),
    "DELETE /api/v1/bookings/lock/{lockId}": ("LOCK_NOT_FOUND", "LOCK_IN_CHECKOUT", "CONFLICT"),
    "POST /api/v1/bookings/lock/{lockId}/release": ("TOKEN_INVALID", "TOKEN_EXPIRED", "LOCK_NOT_FOUND", "LOCK_IN_CHECKOUT", "CONFLICT"),  # noqa: E501
    "POST /api/v1/shows/{showId}/seat-events/ticket": ("TOKEN_WRONG_SHOW", "SHOW_NOT_FOUND"),
    "GET /api/v1/shows/{showId}/seat-events": ("TOKEN_INVALID", "TOO_MANY_STREAMS"),
    "GET /shows/{showId}/seats": ("NOT_FOUND", "SHOW_NOT_FOUND"),
    "GET /shows/{showId}/checkout": ("NOT_FOUND", "SHOW_NOT_FOUND"),
    "POST /api/v1/bookings": ("IDEMPOTENCY_KEY_REQUIRED", "IDEMPOTENCY_KEY_REUSED", "INVALID_REQUEST", "LOCK_NOT_FOUND", "LOCK_EXPIRED", "CONFLICT", "SEAT_LIMIT_EXCEEDED"),  # noqa: E501
    "GET /api/v1/admin/reviews": (),
    "POST /api/v1/admin/bookings/{bookingId}/approve": ("BOOKING_NOT_FOUND", "BOOKING_STATE"),
    "POST /api/v1/admin/bookings/{bookingId}/reject": ("BOOKING_NOT_FOUND", "BOOKING_STATE"),
    "GET /api/v1/bookings/{bookingId}": ("BOOKING_NOT_FOUND",),
    "DELETE /api/v1/bookings/{bookingId}": ("BOOKING_NOT_FOUND", "BOOKING_STATE", "CANCELLATION_WINDOW_CLOSED", "CONFLICT"),  # noqa: E501
    "GET /api/v1/bookings/{bookingId}/cancellation": ("BOOKING_NOT_FOUND",),
    "GET /api/v1/bookings/{bookingId}/ticket": ("BOOKING_NOT_FOUND", "BOOKING_STATE"),
    "POST /api/v1/bookings/lookup": ("RATE_LIMITED", "BOOKING_NOT_FOUND"),
    "POST /api/v1/payments/webhook": ("PAYMENT_MISMATCH",),
    "POST /api/v1/payments/webhook/razorpay": ("NOT_FOUND", "SIGNATURE_INVALID", "WEBHOOK_BODY_INVALID"),  # noqa: E501
    "POST /api/v1/payments/webhook/stripe": ("NOT_FOUND", "SIGNATURE_INVALID", "WEBHOOK_BODY_INVALID"),  # noqa: E501
    "GET /payments/{paymentId}/pay": ("NOT_FOUND", "PAYMENT_NOT_FOUND"),
    "POST /payments/{paymentId}/razorpay/callback": ("NOT_FOUND", "PAYMENT_NOT_FOUND"),
    "GET /payments/stripe/return": ("NOT_FOUND", "PAYMENT_NOT_FOUND"),
    "GET /sandbox/pay/{paymentId}": ("NOT_FOUND", "PAYMENT_NOT_FOUND"),
    "POST /sandbox/payments/{paymentId}/complete": ("NOT_FOUND", "PAYMENT_NOT_FOUND", "CONFLICT",
                                                    "TOKEN_INVALID", "SANDBOX_DELIVERIES_FULL",
                                                    "PAYMENT_MISMATCH"),
    "GET /api/v1/shows/{showId}/revoked-tickets": ("NOT_FOUND", "SHOW_NOT_FOUND"),
    "POST /api/v1/tickets/verify": (),
    "GET /sandbox/payments/{paymentId}": ("NOT_FOUND", "PAYMENT_NOT_FOUND"),
    "POST /api/v1/admin/movies": ("INVALID_REQUEST",),
    "POST /api/v1/admin/theaters": ("INVALID_REQUEST",),
    "POST /api/v1/admin/theaters/{theaterId}/screens": ("NOT_FOUND", "INVALID_REQUEST"),
    "POST /api/v1/admin/shows": ("NOT_FOUND", "INVALID_REQUEST"),
    "GET /api/v1/admin/shows/{showId}": ("NOT_FOUND", "SHOW_NOT_FOUND"),
    "GET /api/v1/admin/shows/{showId}/waiting-room": ("WAITING_ROOM_NOT_FOUND",),
    "PUT /api/v1/admin/shows/{showId}/waiting-room": ("SHOW_NOT_FOUND", "WAITING_ROOM_NOT_FOUND", "INVALID_REQUEST", "QUEUE_UNAVAILABLE"),  # noqa: E501
    "PATCH /api/v1/admin/shows/{showId}/waiting-room": ("WAITING_ROOM_NOT_FOUND", "INVALID_REQUEST", "QUEUE_UNAVAILABLE"),  # noqa: E501
    "GET /api/v1/admin/shows/{showId}/waiting-room/stats": ROOM,
    "POST /api/v1/admin/shows/{showId}/visitors/{visitorId}/revoke": ("SHOW_NOT_FOUND", "WAITING_ROOM_NOT_FOUND", "INVALID_REQUEST", "QUEUE_UNAVAILABLE"),  # noqa: E501
    "GET /api/v1/admin/refunds": (),
    "POST /api/v1/admin/refunds/{refundId}/retry": ("NOT_FOUND", "CONFLICT"),
}


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """An RFC 9457 problem (``application/problem+json``) with our ``error`` code (OpenAPI)."""

    type: str
    title: str
    status: int
    detail: str
    error: str


def problem_spec(description: str) -> ResponseSpec:
    """The OpenAPI response of a problem: ``responses={404: problem_spec("…")}``."""
    return ResponseSpec(data_container=Problem, media_type=PROBLEM_JSON,
                        description=description, generate_examples=False)
