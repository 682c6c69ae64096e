"""Settings from the environment, parsed once into a typed struct.

Every setting is an ``ADMITONE_*`` variable (the README's "Configuration" table). A bad value
stops start-up with one line naming the variable: :class:`SettingsError` carries that line.
"""

from __future__ import annotations

import ipaddress
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


PaymentProviderName = Literal["sandbox", "razorpay", "stripe"]
HttpServerName = Literal["uvicorn", "granian"]


class Secret:
    """A key or secret read from the environment or a file: its repr never shows it, so a
    logged or printed :class:`Settings` cannot leak it. ``reveal()`` hands it to the SDK."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable."""


DEFAULT_LOCK_HOLD_SECONDS = 900


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
    # Which ASGI server runs the HTTP workers (README, "Serving"): both serve the same app.
    http_server: HttpServerName = "uvicorn"
    data_dir: Path = Path(".admitone")
    operator_token: str | None = None
    payment_webhook_secret: str | None = None
    # HS256 secret a booking frontend signs its fans' account ids with (X-Identity header).
    identity_secret: str | None = None
    # The bundled sandbox payment gateway takes no money: a development mode, off unless asked
    # for (``admitone up --demo`` and the tests turn it on); see :func:`payments_refusal`.
    sandbox_payments: bool = False
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
    # A worker's concurrent locks of one show go to PostgreSQL as one call of at most this many
    # requests (booking_core/lock_batches.py); 0 or 1: every lock is its own call. Off: it did
    # not pay in the benchmarks (bench/README.md, "Lock batches").
    lock_batch: int = 0
    seat_map_cache_seconds: float = 2.0
    sweep_interval_seconds: float = 2.0
    reconcile_interval_seconds: float = 30.0
    reconcile_after_seconds: int = 120
    outbox_interval_seconds: float = 1.0
    webhook_tolerance_seconds: int = 300
    booking_token_seconds: int = 900
    # Limits a scalper cannot mint for free (README "Seat limits"), and fraud review.
    # A lock's whole life, however often it is extended; unset: 15 minutes, at most three
    # lock periods (``lock_hold_seconds``).
    lock_max_hold_seconds: int | None = None
    max_seats_per_network: int = 40  # seats in live locks of one show per /24 or /64; 0 = off
    roomless_admissions_per_minute: float = 12.0  # new visitors per network, shows without a room
    roomless_admission_burst: int = 6
    fraud_review_score: int = 60  # a checkout scoring more is held for review; 0 = never
    # Access tokens and admission.
    access_token_issuer: str = "admitone"  # noqa: S105 - an issuer name, not a secret
    access_token_audience: str = "admitone-booking"  # noqa: S105 - an audience name, not a secret
    # Run the background jobs (sweeper, outbox, reconciliation, scheduler) inside the app.
    background_jobs: bool = True
    # Waiting room.
    queue_token_seconds: int = 86400
    queue_join_rate_per_second: float = 10.0  # per client IP and show (join.lua)
    queue_join_burst: int = 40
    # Gather the room script calls of one event-loop turn into one pipeline (queue/pipelining.py;
    # a single Redis server or Sentinel's master; a cluster's calls always go one by one).
    queue_auto_pipeline: bool = True
    # Deprecated by trusted_proxies: > 0 with no trusted_proxies trusts PRIVATE_NETWORKS.
    trusted_proxy_hops: int = 0
    admission_tick_seconds: float = 1.0
    scheduler_lease_seconds: float = 3.0
    pow_challenge_seconds: int = 120
    # Payment providers: which one takes the money, and its keys.
    payment_provider: PaymentProviderName = "sandbox"
    razorpay_key_id: str | None = None
    razorpay_key_secret: Secret | None = None
    razorpay_webhook_secret: Secret | None = None
    razorpay_api_url: str = "https://api.razorpay.com"
    razorpay_checkout_script_url: str = "https://checkout.razorpay.com/v1/checkout.js"
    stripe_secret_key: Secret | None = None
    stripe_webhook_secret: Secret | None = None
    stripe_api_url: str = "https://api.stripe.com"
    provider_timeout_seconds: float = 15.0
    # The edge (README "Behind a proxy", "Configuration"): who may name the client's address,
    # how many event streams a client and a process hold, who may read /metrics and introspect.
    trusted_proxies: tuple[str, ...] = ()  # networks whose X-Forwarded-For is believed
    streams_per_client: int = 20  # open SSE streams per client IP, per process
    streams_per_process: int = 1000
    limit_concurrency: int = 2000  # connections + requests per process (the server's); 0 = none
    metrics_token: str | None = None  # bearer token /metrics asks for
    metrics_allow: tuple[str, ...] = ()  # networks that may read /metrics; empty = any
    introspection_token: str | None = None  # bearer token /api/v1/tokens/introspect asks for
    introspection_allow: tuple[str, ...] = ()  # networks that may introspect; empty = any

    @property
    def proxy_networks(self) -> tuple[str, ...]:
        """The networks whose ``X-Forwarded-For`` is believed: ``trusted_proxies``, else (the
        deprecated ``trusted_proxy_hops`` > 0) the loopback and private networks."""
        if self.trusted_proxies:
            return self.trusted_proxies
        return PRIVATE_NETWORKS if self.trusted_proxy_hops > 0 else ()

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
    def lock_hold_seconds(self) -> int:
        """How long a lock may live from its creation (``ADMITONE_LOCK_MAX_HOLD_SECONDS``)."""
        if self.lock_max_hold_seconds is not None:
            return self.lock_max_hold_seconds
        return min(DEFAULT_LOCK_HOLD_SECONDS, 3 * self.lock_seconds)

    @property
    def base_url(self) -> str:
        """The URL fans and the sandbox gateway use to reach this service."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


# What ADMITONE_TRUSTED_PROXY_HOPS > 0 trusts when ADMITONE_TRUSTED_PROXIES is not set: the
# networks a proxy in front of admitone sits on (a peer on the internet can no longer choose
# its own address by sending the header).
PRIVATE_NETWORKS: tuple[str, ...] = (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7",
)


def _parse_networks(raw: str) -> tuple[str, ...]:
    """A comma-separated list of IP networks or addresses (``10.0.0.0/8,127.0.0.1``)."""
    networks = []
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            networks.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            raise ValueError(
                f"{part.strip()!r} is not an IP network; expected e.g. 10.0.0.0/8,127.0.0.1"
            ) from None
    return tuple(networks)


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


def _parse_pattern(pattern: str, description: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def parse(raw: str) -> str:
        if not compiled.fullmatch(raw):
            raise ValueError(f"expected {description}")
        return raw

    return parse


def _parse_key(pattern: str, description: str) -> Callable[[str], Secret]:
    check = _parse_pattern(pattern, description)
    return lambda raw: Secret(check(raw))


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
    "http_server": _parse_choice("uvicorn", "granian"),
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
    "lock_batch": _parse_count,
    "seat_map_cache_seconds": _parse_positive_float,
    "sweep_interval_seconds": _parse_positive_float,
    "reconcile_interval_seconds": _parse_positive_float,
    "reconcile_after_seconds": _parse_positive_int,
    "outbox_interval_seconds": _parse_positive_float,
    "webhook_tolerance_seconds": _parse_positive_int,
    "booking_token_seconds": _parse_positive_int,
    "lock_max_hold_seconds": _parse_positive_int,
    "max_seats_per_network": _parse_count,
    "roomless_admissions_per_minute": _parse_positive_float,
    "roomless_admission_burst": _parse_positive_int,
    "fraud_review_score": _parse_count,
    "access_token_issuer": str,
    "access_token_audience": str,
    "background_jobs": _parse_bool,
    "queue_token_seconds": _parse_positive_int,
    "queue_join_rate_per_second": _parse_positive_float,
    "queue_join_burst": _parse_positive_int,
    "queue_auto_pipeline": _parse_bool,
    "trusted_proxy_hops": _parse_count,
    "admission_tick_seconds": _parse_positive_float,
    "scheduler_lease_seconds": _parse_positive_float,
    "pow_challenge_seconds": _parse_positive_int,
    "payment_provider": _parse_choice("sandbox", "razorpay", "stripe"),
    "razorpay_key_id": _parse_pattern(r"rzp_(test|live)_[A-Za-z0-9]{6,64}",
                                      "a Razorpay key id such as rzp_test_…"),
    "razorpay_key_secret": _parse_key(r"[A-Za-z0-9]{16,128}",
                                      "a Razorpay key secret (16 or more letters and digits)"),
    "razorpay_webhook_secret": _parse_key(r"\S{8,256}",
                                          "a webhook secret of 8 or more characters, no spaces"),
    "razorpay_api_url": _parse_url(("http", "https")),
    "razorpay_checkout_script_url": _parse_url(("http", "https")),
    "stripe_secret_key": _parse_key(r"(sk|rk)_(test|live)_[A-Za-z0-9]{10,255}",
                                    "a Stripe secret key such as sk_test_…"),
    "stripe_webhook_secret": _parse_key(r"whsec_[A-Za-z0-9+/=]{10,255}",
                                        "a Stripe endpoint secret such as whsec_…"),
    "stripe_api_url": _parse_url(("http", "https")),
    "provider_timeout_seconds": _parse_positive_float,
    "trusted_proxies": _parse_networks,
    "streams_per_client": _parse_positive_int,
    "streams_per_process": _parse_positive_int,
    "limit_concurrency": _parse_count,
    "metrics_token": _parse_secret,
    "metrics_allow": _parse_networks,
    "introspection_token": _parse_secret,
    "introspection_allow": _parse_networks,
}
# Settings that may come from a file named by ``<VARIABLE>_FILE`` (a mounted secret), and whose
# value never appears in an error message.
_SECRET_FIELDS = frozenset({
    "operator_token", "payment_webhook_secret", "razorpay_key_id", "razorpay_key_secret",
    "razorpay_webhook_secret", "stripe_secret_key", "stripe_webhook_secret",
    "metrics_token", "introspection_token",
})
# What each provider cannot start without.
_PROVIDER_NEEDS: dict[str, tuple[str, ...]] = {
    "razorpay": ("razorpay_key_id", "razorpay_key_secret", "razorpay_webhook_secret",
                 "public_url"),
    "stripe": ("stripe_secret_key", "stripe_webhook_secret", "public_url"),
}


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return f"ADMITONE_{field.upper()}"


def _raw_value(environ: Mapping[str, str], field: str) -> str | None:
    """The variable's value, or for a secret the content of the file ``<VARIABLE>_FILE``
    names (one trailing newline dropped, as ``echo`` and editors leave one)."""
    name = env_name(field)
    raw = environ.get(name)
    path = environ.get(f"{name}_FILE") if field in _SECRET_FIELDS else None
    if not path:
        return raw
    if raw:
        raise SettingsError(f"{name} and {name}_FILE are both set: keep one")
    try:
        return Path(path).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"{name}_FILE={path!r}: cannot read it ({exc.__class__.__name__})"
        ) from None


# Settings that carry a credential (a URL may hold a password): ``admitone up``/``serve`` hand
# them to their worker processes in a private file, not in the workers' environment.
HANDED_OFF_FIELDS = frozenset({
    *_SECRET_FIELDS, "database_url", "database_replica_url", "redis_url", "smtp_url",
    "identity_secret",
})
HANDOFF_VARIABLE = "ADMITONE_HANDOFF_FILE"


def _with_handoff(environ: Mapping[str, str]) -> Mapping[str, str]:
    """``environ`` and the variables of the file ``ADMITONE_HANDOFF_FILE`` names (a JSON
    object of names and values the parent process wrote, mode 0600), when it is set."""
    path = environ.get(HANDOFF_VARIABLE)
    if not path:
        return environ
    try:
        handed: dict[str, str] = msgspec.json.decode(Path(path).read_bytes(),
                                                     type=dict[str, str])
    except (OSError, msgspec.DecodeError) as exc:
        raise SettingsError(
            f"{HANDOFF_VARIABLE}={path!r}: cannot read it ({exc.__class__.__name__})"
        ) from None
    return {**environ, **handed}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every ``ADMITONE_*`` variable; raise :class:`SettingsError` naming a bad one."""
    environ = _with_handoff(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for field, parse in _PARSERS.items():
        raw = _raw_value(environ, field)
        if raw is None or raw == "":
            continue
        try:
            values[field] = parse(raw)
        except ValueError as exc:
            if field in _SECRET_FIELDS:  # name the variable, never echo the secret
                raise SettingsError(f"{env_name(field)}: {exc}") from None
            raise SettingsError(f"{env_name(field)}={raw!r}: {exc}") from None
    values.update(overrides)
    settings = Settings(**values)
    for field in _PROVIDER_NEEDS.get(settings.payment_provider, ()):
        if getattr(settings, field) is None:
            hint = f" (or {env_name(field)}_FILE)" if field in _SECRET_FIELDS else ""
            raise SettingsError(
                f"{env_name(field)}: required when "
                f"{env_name('payment_provider')}={settings.payment_provider}; set it{hint}"
            )
    if settings.payment_timeout_seconds >= settings.lock_seconds:
        raise SettingsError(
            f"{env_name('payment_timeout_seconds')}={settings.payment_timeout_seconds}: "
            f"must be shorter than {env_name('lock_seconds')}={settings.lock_seconds}, "
            "so a seat lock always outlives the payment window"
        )
    if settings.lock_hold_seconds < settings.lock_seconds:
        raise SettingsError(
            f"{env_name('lock_max_hold_seconds')}={settings.lock_max_hold_seconds}: "
            f"must be at least {env_name('lock_seconds')}={settings.lock_seconds}"
        )
    return settings


def payments_refusal(settings: Settings) -> str | None:
    """Why a server with these settings must not start taking bookings, or None.

    The default provider is the sandbox, which takes no money: it runs only when
    ``ADMITONE_SANDBOX_PAYMENTS=1`` says so, so that nobody goes live with free tickets by
    forgetting to configure a real provider."""
    if settings.payment_provider == "sandbox" and not settings.sandbox_payments:
        return (
            f"{env_name('payment_provider')}=sandbox takes no money and is a development mode: "
            f"set {env_name('sandbox_payments')}=1 to run it (admitone up --demo does), or set "
            f"{env_name('payment_provider')} to razorpay or stripe"
        )
    return None
