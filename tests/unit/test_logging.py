"""Log lines: JSON through one renderer, secrets and e-mails never in full."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from admitone.logging import configure_logging, mask_email, mask_secrets, mask_text, mask_value
from admitone.settings import load_settings

JWT = ("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJ2LTEyMyIsInNob3dJZCI6InMxIn0."
       "c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMDEyMzQ1Njc4OQ")


@pytest.fixture
def json_lines(tmp_path: Path) -> Iterator[list[Any]]:
    """The app's production logging (JSON) for one test, written to a buffer instead of
    stderr; yields a function reading its lines."""
    previous = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(load_settings({}, data_dir=tmp_path, log_format="json", log_level="info"))
    buffer = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    (handler,) = [h for h in root.handlers if h.get_name() == "admitone"]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line]

    try:
        yield [lines]
    finally:
        structlog.configure(**previous)
        root.handlers, root.level = handlers, level


def test_secret_keys_are_masked_whatever_they_hold() -> None:
    """Values of token-, secret-, password-, cookie- and authorization-named keys keep only
    their first characters and length, at any depth."""
    with capture_logs(processors=[mask_secrets]) as logs:
        structlog.get_logger().warning(  # warning: the suite may filter out info
            "checked", access_token=JWT, queueToken="q" * 40, webhook_secret="s3cr3t-value-123",
            headers={"Authorization": "Bearer abcdefghijklmnop", "X-CSRF-Token": "c" * 32},
            password="hunter2", show_id="s1", count=3,
        )
    entry = logs[0]
    assert entry["access_token"] == f"eyJh…({len(JWT)} chars)"
    assert entry["queueToken"] == "qqqq…(40 chars)"
    assert entry["webhook_secret"] == "s3cr…(16 chars)"
    assert entry["headers"] == {"Authorization": "Bear…(23 chars)", "X-CSRF-Token": "cccc…(32 chars)"}
    assert entry["password"] == "***"
    assert entry["show_id"] == "s1"
    assert entry["count"] == 3


def test_emails_tokens_and_url_passwords_are_masked_inside_text() -> None:
    """Free text keeps its words but not an e-mail's person, a JWT, a bearer token or the
    password of a URL."""
    text = (f"mail to alice.smith@example.com failed; token {JWT}; Bearer abcdefghijklmnopqrst; "
            "db postgresql://admin:pa55word@db.internal:5432/admitone")
    masked = mask_text(text)
    assert "alice" not in masked
    assert "a***@example.com" in masked
    assert JWT not in masked
    assert "eyJh…" in masked
    assert "abcdefghijklmnopqrst" not in masked
    assert "pa55word" not in masked
    assert "postgresql://admin:***@db.internal:5432/admitone" in masked


def test_email_keys_keep_only_the_domain() -> None:
    """An e-mail under an e-mail-named key keeps its first letter and domain."""
    with capture_logs(processors=[mask_secrets]) as logs:
        structlog.get_logger().warning("sent", email="bob@example.org", recipient="x@y.in")
    assert logs[0]["email"] == "b***@example.org"
    assert logs[0]["recipient"] == "x***@y.in"
    assert mask_email("no address here") == "no address here"
    assert mask_value("short") == "***"


def test_structlog_lines_are_json_with_the_bound_context_and_masked(
    json_lines: list[Any],
) -> None:
    """With the production renderer every structlog line is one JSON object carrying the
    request's bound ids, with secrets masked."""
    structlog.contextvars.bind_contextvars(request_id="r-1", show_id="s-1", visitor_id="v-1")
    try:
        structlog.get_logger("admitone.test").warning("booking_failed", email="fan@example.com",
                                                      token="t" * 30)
    finally:
        structlog.contextvars.clear_contextvars()
    (line,) = json_lines[0]()
    assert line["event"] == "booking_failed"
    assert (line["request_id"], line["show_id"], line["visitor_id"]) == ("r-1", "s-1", "v-1")
    assert line["email"] == "f***@example.com"
    assert line["token"] == "tttt…(30 chars)"
    assert line["level"] == "warning"
    assert line["timestamp"].endswith("Z")


def test_standard_library_records_are_the_same_json(json_lines: list[Any]) -> None:
    """uvicorn's and asyncio's records (the standard library's logging) come out as the same
    JSON lines, bound context and masking included."""
    structlog.contextvars.bind_contextvars(request_id="r-2")
    try:
        logging.getLogger("uvicorn.error").warning("client sent %s", "carol@example.net")
    finally:
        structlog.contextvars.clear_contextvars()
    (line,) = json_lines[0]()
    assert line["event"] == "client sent c***@example.net"
    assert line["request_id"] == "r-2"
    assert line["level"] == "warning"
