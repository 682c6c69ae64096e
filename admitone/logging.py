"""structlog set-up: JSON lines in production, readable console output for the demo.

Every line, structlog's and the standard library's (uvicorn, asyncio, Litestar) alike, goes
through the same processors: the request's bound context (``request_id``, and ``show_id`` /
``visitor_id`` where the request names them), level, UTC time, then :func:`mask_secrets`, so a
token, a secret or an e-mail address never reaches a log in full.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from admitone.settings import Settings

# Keys whose values are secrets whatever they hold (compared lower-case, '-' read as '_').
_SECRET_KEY = re.compile(
    r"(^|_)(token|secret|password|passwd|authorization|cookie|csrf|signature|api_key|"
    r"private_key|access_token|queue_token|booking_token|session)($|_)"
)
_EMAIL_KEY = re.compile(r"(^|_)e?mail($|_)|(^|_)recipient($|_)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# A JWT: three base64url parts, the first a JSON header ("eyJ" is '{"' encoded).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]+@")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_KEEP = 4
_HANDLER_NAME = "admitone"
_MAX_DEPTH = 3


def mask_value(value: str) -> str:
    """A secret shown by its first few characters and its length only."""
    if len(value) <= _KEEP * 2:
        return "***"
    return f"{value[:_KEEP]}…({len(value)} chars)"


def mask_email(value: str) -> str:
    """``a***@example.com`` for ``alice@example.com``: the domain stays, the person does not."""
    return _EMAIL.sub(lambda match: f"{match.group(1)}***@{match.group(2)}", value)


def mask_text(text: str) -> str:
    """Mask the secrets and e-mail addresses found inside free text."""
    if "eyJ" in text:
        text = _JWT.sub(lambda match: mask_value(match.group(0)), text)
    if "@" in text:
        text = _URL_PASSWORD.sub(r"\1***@", text) if "://" in text else text
        text = mask_email(text)
    if "earer" in text:
        text = _BEARER.sub(
            lambda match: match.group(1) + mask_value(match.group(0)[len(match.group(1)):]), text
        )
    return text


def _is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(_snake(key)))


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).replace("-", "_").lower()


def _masked_text(key: str, value: str) -> str:
    if _is_secret_key(key):
        return mask_value(value)
    if _EMAIL_KEY.search(_snake(key)):
        return mask_email(value) if "@" in value else mask_value(value)
    return mask_text(value)


def _masked(key: str, value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _masked_text(key, value)
    if isinstance(value, bytes) and _is_secret_key(key):
        value = mask_value(value.decode(errors="replace"))
    elif depth < _MAX_DEPTH and isinstance(value, Mapping):
        value = {k: _masked(str(k), v, depth + 1) for k, v in value.items()}
    elif depth < _MAX_DEPTH and isinstance(value, list | tuple):
        value = [_masked(key, item, depth + 1) for item in value]
    return value


def mask_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: secrets by key name, e-mails, JWTs, bearer tokens and URL passwords
    by their shape, wherever they appear in a log line."""
    for key, value in event_dict.items():
        if isinstance(value, str | bytes | Mapping | list | tuple):
            event_dict[key] = _masked(key, value, 0)
    return event_dict


def _renderer(settings: Settings) -> structlog.typing.Processor:
    if settings.log_format == "console":
        return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    return structlog.processors.JSONRenderer()


def configure_logging(settings: Settings) -> None:
    """Route structlog and the standard library's logging through one renderer."""
    level = getattr(logging, settings.log_level.upper())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            mask_secrets,
            _renderer(settings),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        # Not cached, so structlog.testing.capture_logs() sees every logger in tests.
        cache_logger_on_first_use=False,
    )
    # The standard library's records (uvicorn, asyncio, Litestar) as the same JSON lines.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_secrets,
            _renderer(settings),
        ],
    ))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace our own handler of an earlier call, leave any other (pytest's capture) alone.
    root.handlers = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(max(level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers print plain text; its records go to the root handler instead.
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
