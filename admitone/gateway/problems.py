"""Every error as RFC 9457 ``application/problem+json`` with our ``error`` code.

Admitone's errors map by class to a status (a dependency that does not answer arrives here as
``DependencyUnavailableError``, translated where the driver was called); framework errors
(validation, unknown route, body too large) get problems of their own. Anything else is a bug,
logged and answered as a retryable 503. Nothing answers a bare 500.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

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
        "type": f"https://admitone.dev/problems/{code.lower().replace('_', '-')}",
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
