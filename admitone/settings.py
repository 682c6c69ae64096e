"""Settings from the environment, parsed once into a typed struct.

Every setting is an ``ADMITONE_*`` variable (CONTRACT.md). A bad value stops start-up with one
line naming the variable: :class:`SettingsError` carries that line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import msgspec

from admitone.redis_client import SCHEMES as REDIS_SCHEMES
from admitone.redis_client import parse_redis_url

LogFormat = Literal["json", "console"]
# A Redis key prefix: no braces (they would move the Cluster hash tag), no glob characters
# (the seat-event subscription is a pattern), nothing that needs quoting.
_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PREFIX_CHAR = re.compile(r"[A-Za-z0-9_.-]")


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything admitone reads from its environment."""

    database_url: str | None = None
    # An optional streaming replica that serves catalog browsing and seat-map reads.
    database_replica_url: str | None = None
    database_pool_size: int = 20  # connections per process (and as many again to the replica)
    database_statement_timeout_ms: int = 30_000  # 0 = no limit
    database_lock_timeout_ms: int = 5_000  # how long a statement waits for a row lock; 0 = no limit
    redis_url: str | None = None
    # Put before every Redis key and channel, so deployments sharing one Redis keep apart.
    redis_prefix: str | None = None  # unset: the database name (see redis_key_prefix)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    data_dir: Path = Path(".admitone")
    operator_token: str | None = None
    payment_webhook_secret: str | None = None
    # HS256 secret a booking frontend signs its fans' account ids with (X-Identity header).
    identity_secret: str | None = None
    sandbox_payments: bool = True
    public_url: str | None = None
    smtp_url: str | None = None
    smtp_from: str = "tickets@admitone.local"
    log_format: LogFormat = "json"
    log_level: str = "info"
    # Booking core.
    lock_seconds: int = 600
    payment_timeout_seconds: int = 300
    max_seats_per_visitor: int = 10
    max_seats_per_lock: int = 10
    seat_map_cache_seconds: float = 2.0
    sweep_interval_seconds: float = 2.0
    reconcile_interval_seconds: float = 30.0
    reconcile_after_seconds: int = 120
    outbox_interval_seconds: float = 1.0
    webhook_tolerance_seconds: int = 300
    booking_token_seconds: int = 900
    # Access tokens and admission.
    access_token_issuer: str = "admitone"  # noqa: S105 - an issuer name, not a secret
    access_token_audience: str = "admitone-booking"  # noqa: S105 - an audience name, not a secret
    # Run the background jobs (sweeper, outbox, reconciliation, scheduler) inside the app.
    background_jobs: bool = True
    # Waiting room (issue 3).
    queue_token_seconds: int = 86400
    queue_join_rate_per_second: float = 10.0  # per client IP
    queue_join_burst: int = 40
    trusted_proxy_hops: int = 0  # proxies in front that append to X-Forwarded-For; 0 = ignore it
    admission_tick_seconds: float = 1.0
    scheduler_lease_seconds: float = 3.0
    pow_challenge_seconds: int = 120

    @property
    def redis_key_prefix(self) -> str:
        """``ADMITONE_REDIS_PREFIX``, else the database's name (``admitone`` when none is set):
        two deployments on one Redis with their own databases keep their keys apart."""
        if self.redis_prefix:
            return self.redis_prefix
        if self.database_url:
            name = urlsplit(self.database_url).path.strip("/")
            cleaned = "".join(c if _PREFIX_CHAR.fullmatch(c) else "_" for c in unquote(name))
            if cleaned:
                return cleaned
        return "admitone"

    @property
    def base_url(self) -> str:
        """The URL fans and the sandbox gateway use to reach this service."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _parse_positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a whole number above 0")
    return value


def _parse_count(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected a whole number, 0 or more")
    return value


def _parse_port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:  # noqa: PLR2004 - the TCP port range
        raise ValueError("expected a port number from 1 to 65535")
    return value


def _parse_positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("expected a number above 0")
    return value


def _parse_url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not raw.startswith(tuple(f"{scheme}://" for scheme in schemes)):
            raise ValueError(f"expected a URL starting with {' or '.join(schemes)}://")
        return raw

    return parse


def _parse_redis_url(raw: str) -> str:
    if not raw.startswith(tuple(f"{scheme}://" for scheme in REDIS_SCHEMES)):
        raise ValueError(f"expected a URL starting with {', '.join(REDIS_SCHEMES)}://")
    parse_redis_url(raw)  # a cluster or Sentinel URL must name its hosts (and master)
    return raw


def _parse_redis_prefix(raw: str) -> str:
    if not _PREFIX.fullmatch(raw):
        raise ValueError("expected 1 to 64 letters, digits, '_', '.' or '-'")
    return raw


def _parse_secret(raw: str) -> str:
    if len(raw) < 16:  # noqa: PLR2004 - a bearer secret shorter than this is guessable
        raise ValueError("expected at least 16 characters")
    return raw


def _parse_choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return raw

    return parse


_PARSERS: dict[str, Callable[[str], Any]] = {
    "database_url": _parse_url(("postgresql", "postgres")),
    "database_replica_url": _parse_url(("postgresql", "postgres")),
    "database_pool_size": _parse_positive_int,
    "database_statement_timeout_ms": _parse_count,
    "database_lock_timeout_ms": _parse_count,
    "redis_url": _parse_redis_url,
    "redis_prefix": _parse_redis_prefix,
    "host": str,
    "port": _parse_port,
    "workers": _parse_positive_int,
    "data_dir": Path,
    "operator_token": _parse_secret,
    "payment_webhook_secret": _parse_secret,
    "identity_secret": _parse_secret,
    "sandbox_payments": _parse_bool,
    "public_url": _parse_url(("http", "https")),
    "smtp_url": _parse_url(("smtp", "smtps")),
    "smtp_from": str,
    "log_format": _parse_choice("json", "console"),
    "log_level": _parse_choice("debug", "info", "warning", "error"),
    "lock_seconds": _parse_positive_int,
    "payment_timeout_seconds": _parse_positive_int,
    "max_seats_per_visitor": _parse_positive_int,
    "max_seats_per_lock": _parse_positive_int,
    "seat_map_cache_seconds": _parse_positive_float,
    "sweep_interval_seconds": _parse_positive_float,
    "reconcile_interval_seconds": _parse_positive_float,
    "reconcile_after_seconds": _parse_positive_int,
    "outbox_interval_seconds": _parse_positive_float,
    "webhook_tolerance_seconds": _parse_positive_int,
    "booking_token_seconds": _parse_positive_int,
    "access_token_issuer": str,
    "access_token_audience": str,
    "background_jobs": _parse_bool,
    "queue_token_seconds": _parse_positive_int,
    "queue_join_rate_per_second": _parse_positive_float,
    "queue_join_burst": _parse_positive_int,
    "trusted_proxy_hops": _parse_count,
    "admission_tick_seconds": _parse_positive_float,
    "scheduler_lease_seconds": _parse_positive_float,
    "pow_challenge_seconds": _parse_positive_int,
}


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return f"ADMITONE_{field.upper()}"


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every ``ADMITONE_*`` variable; raise :class:`SettingsError` naming a bad one."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field, parse in _PARSERS.items():
        raw = environ.get(env_name(field))
        if raw is None or raw == "":
            continue
        try:
            values[field] = parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{env_name(field)}={raw!r}: {exc}") from None
    values.update(overrides)
    settings = Settings(**values)
    if settings.payment_timeout_seconds >= settings.lock_seconds:
        raise SettingsError(
            f"{env_name('payment_timeout_seconds')}={settings.payment_timeout_seconds}: "
            f"must be shorter than {env_name('lock_seconds')}={settings.lock_seconds}, "
            "so a seat lock always outlives the payment window"
        )
    return settings
