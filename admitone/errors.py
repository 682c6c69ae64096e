"""Domain errors: they carry data and know nothing of HTTP.

``gateway/problems.py`` maps each to an RFC 9457 response by its ``code``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class AdmitoneError(Exception):
    """Base of every expected failure; ``code`` is the stable ``error`` of the problem."""

    code = "ERROR"
    title = "Request failed"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class NotFoundError(AdmitoneError):
    code = "NOT_FOUND"
    title = "Not found"


class ShowNotFoundError(NotFoundError):
    code = "SHOW_NOT_FOUND"
    title = "Show not found"


class LockNotFoundError(NotFoundError):
    code = "LOCK_NOT_FOUND"
    title = "Lock not found"


class BookingNotFoundError(NotFoundError):
    code = "BOOKING_NOT_FOUND"
    title = "Booking not found"


class PaymentNotFoundError(NotFoundError):
    code = "PAYMENT_NOT_FOUND"
    title = "Payment not found"


class InvalidRequestError(AdmitoneError):
    """The request is well-formed but names things that cannot be used together."""

    code = "INVALID_REQUEST"
    title = "Invalid request"


class UnknownSeatsError(InvalidRequestError):
    code = "UNKNOWN_SEATS"
    title = "Unknown seats"

    def __init__(self, seat_ids: list[str]) -> None:
        super().__init__(
            f"These seats do not exist in this show: {', '.join(seat_ids)}",
            unknownSeats=seat_ids,
        )


class ConflictError(AdmitoneError):
    code = "CONFLICT"
    title = "Conflict"


class SeatUnavailableError(ConflictError):
    code = "SEAT_UNAVAILABLE"
    title = "Seats unavailable"

    def __init__(self, unavailable: list[str], alternatives: list[str]) -> None:
        super().__init__(
            "Selected seats are no longer available",
            unavailableSeats=unavailable,
            alternativeSeats=alternatives,
        )


class SeatLimitError(ConflictError):
    """The visitor (or, ``by="device"``, the browser's device cookie) holds as many seats of
    the show as ``max_seats_per_visitor`` allows (409; ``countedBy`` says which counted)."""

    code = "SEAT_LIMIT_EXCEEDED"
    title = "Seat limit reached"

    def __init__(self, limit: int, held: int, requested: int, by: str = "visitor") -> None:
        super().__init__(
            f"A {by} may hold at most {limit} seats of this show "
            f"({held} held, {requested} requested)",
            limit=limit,
            held=held,
            requested=requested,
            countedBy=by,
        )


class NetworkSeatLimitError(ConflictError):
    """The client's network (IPv4 /24, IPv6 /64) holds as many locked seats of the show as
    ``ADMITONE_MAX_SEATS_PER_NETWORK`` allows (409)."""

    code = "NETWORK_SEAT_LIMIT"
    title = "Too many seats held from your network"

    def __init__(self, limit: int, held: int, requested: int) -> None:
        super().__init__(
            f"Your network holds {held} locked seats of this show and may hold at most {limit}; "
            "try again when some are booked or released",
            limit=limit, held=held, requested=requested,
        )


class BuyerSeatLimitError(ConflictError):
    """The checkout's e-mail address or payment instrument already has bookings of the show
    for as many seats as a buyer may have (409)."""

    code = "SEAT_LIMIT_EXCEEDED"
    title = "Seat limit reached"

    def __init__(self, limit: int, held: int, requested: int, by: str) -> None:
        super().__init__(
            f"One buyer may book at most {limit} seats of this show; this {by} has "
            f"{held} booked or in checkout, and this checkout adds {requested}",
            limit=limit, held=held, requested=requested, countedBy=by,
        )


class LockExpiredError(AdmitoneError):
    code = "LOCK_EXPIRED"
    title = "Lock expired"

    def __init__(self, lock_id: str, expired_at: datetime | None) -> None:
        super().__init__(
            "Your seat selection has expired. Please select seats again.",
            lockId=lock_id,
            lockExpiresAt=expired_at,
        )


class LockInCheckoutError(ConflictError):
    code = "LOCK_IN_CHECKOUT"
    title = "Lock is being paid for"


class ShowClosedError(ConflictError):
    code = "SHOW_CLOSED"
    title = "Show not on sale"


class BookingStateError(ConflictError):
    code = "BOOKING_STATE"
    title = "Booking cannot do that now"


class CancellationClosedError(ConflictError):
    code = "CANCELLATION_WINDOW_CLOSED"
    title = "Too late to cancel"


class IdempotencyKeyReusedError(AdmitoneError):
    code = "IDEMPOTENCY_KEY_REUSED"
    title = "Idempotency key reused with another body"


class IdempotencyKeyMissingError(AdmitoneError):
    code = "IDEMPOTENCY_KEY_REQUIRED"
    title = "Idempotency-Key header required"


class TokenInvalidError(AdmitoneError):
    code = "TOKEN_INVALID"
    title = "Invalid token"


class TokenExpiredError(TokenInvalidError):
    """A genuine token whose time is up (401): get a new one (rejoin, or look the booking up)."""

    code = "TOKEN_EXPIRED"
    title = "Token expired"


class TokenWrongShowError(AdmitoneError):
    code = "TOKEN_WRONG_SHOW"
    title = "Token is for another show"


class OperatorAuthError(AdmitoneError):
    code = "OPERATOR_UNAUTHORIZED"
    title = "Operator token required"


class SignatureInvalidError(AdmitoneError):
    code = "SIGNATURE_INVALID"
    title = "Invalid webhook signature"


class WebhookBodyInvalidError(AdmitoneError):
    """A provider's webhook is correctly signed but its body is not an event we can read (400)."""

    code = "WEBHOOK_BODY_INVALID"
    title = "Unreadable webhook body"


class RateLimitedError(AdmitoneError):
    code = "RATE_LIMITED"
    title = "Too many requests"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many requests; try again in {retry_after_seconds} s",
            retryAfter=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


class SandboxDeliveriesFullError(RateLimitedError):
    """The sandbox has as many delayed webhook deliveries waiting as it keeps (429)."""

    code = "SANDBOX_DELIVERIES_FULL"
    title = "Too many scheduled deliveries"

    def __init__(self, detail: str, retry_after_seconds: int, **context: object) -> None:
        AdmitoneError.__init__(self, detail, retryAfter=retry_after_seconds, **context)
        self.retry_after_seconds = retry_after_seconds


class DependencyUnavailableError(AdmitoneError):
    """PostgreSQL or Redis did not answer; the request may be retried."""

    code = "SERVICE_TEMPORARILY_UNAVAILABLE"
    title = "Service temporarily unavailable"

    def __init__(self, dependency: str, retry_after_seconds: int = 5) -> None:
        super().__init__(
            f"{dependency} is not answering. Please try again.",
            dependency=dependency,
            retryAfter=retry_after_seconds,
        )
        self.dependency = dependency  # "PostgreSQL" or "Redis": for the log, never guessed
        self.retry_after_seconds = retry_after_seconds


class PaymentMismatchError(InvalidRequestError):
    """A gateway reported a success for another amount or currency than the payment's."""

    code = "PAYMENT_MISMATCH"
    title = "Payment does not match"


# Waiting room ------------------------------------------------------------------------------------


class WaitingRoomNotFoundError(NotFoundError):
    code = "WAITING_ROOM_NOT_FOUND"
    title = "No waiting room"


class DrawNotFoundError(NotFoundError):
    """The show's room has no pre-queue draw (it is not a RANDOM_PREQUEUE room)."""

    code = "DRAW_NOT_FOUND"
    title = "No pre-queue draw"


class IdentityInvalidError(TokenInvalidError):
    """A proof of identity (identity token, signed header, e-mail) that does not hold (401)."""

    code = "IDENTITY_INVALID"
    title = "Identity not verified"


class IdentityCodeInvalidError(InvalidRequestError):
    """The e-mail code is wrong, used up or expired (422): ask for a new one."""

    code = "IDENTITY_CODE_INVALID"
    title = "Wrong or expired code"


class IdentityRequiredError(TokenWrongShowError):
    """This room lets only fans with a verified identity join (403)."""

    code = "IDENTITY_REQUIRED"
    title = "Verified identity required"


class QueueClosedError(ConflictError):
    """The show's waiting room is switched off: nobody can join now."""

    code = "QUEUE_CLOSED"
    title = "Queue closed"


class QueueNotOpenError(AdmitoneError):
    """Too early: the queue opens at ``opensAt`` (HTTP 425, with Retry-After)."""

    code = "QUEUE_NOT_OPEN"
    title = "Queue not open yet"

    def __init__(self, opens_at: datetime, retry_after_seconds: int) -> None:
        super().__init__(
            f"The queue opens at {opens_at.isoformat()}", opensAt=opens_at.isoformat()
        )
        self.retry_after_seconds = retry_after_seconds


class QueuePlaceGoneError(AdmitoneError):
    """The visitor's place is over: it left, stopped polling, or its session ended (HTTP 410)."""

    code = "QUEUE_PLACE_EXPIRED"
    title = "Queue place expired"


class QueueUnavailableError(DependencyUnavailableError):
    """Redis does not answer and the room fails closed: try again shortly (HTTP 503)."""

    code = "QUEUE_UNAVAILABLE"
    title = "Queue temporarily unavailable"

    def __init__(self, retry_after_seconds: int = 3) -> None:
        AdmitoneError.__init__(
            self, "The queue is paused for a moment; your page will retry by itself.",
            retryAfter=retry_after_seconds,
        )
        self.dependency = "Redis"  # logged, not shown: the fans' answer stays the same
        self.retry_after_seconds = retry_after_seconds


class ProofOfWorkError(AdmitoneError):
    """The room asks for a proof of work on join and none, or a wrong one, came (HTTP 403)."""

    code = "PROOF_OF_WORK_REQUIRED"
    title = "Proof of work required"


class ProofOfWorkInvalidError(ProofOfWorkError):
    code = "PROOF_OF_WORK_INVALID"
    title = "Proof of work invalid"


class StreamLimitError(AdmitoneError):
    """Too many live event streams from one client or in one process (503, retry later)."""

    code = "TOO_MANY_STREAMS"
    title = "Too many live streams"

    def __init__(self, detail: str, retry_after_seconds: int = 10) -> None:
        super().__init__(detail, retryAfter=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds
