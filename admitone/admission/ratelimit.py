"""A Redis token bucket, shared by every gateway replica: booking lookup, queue joins, …

``RateLimiter(redis).take(key, rate_per_second, burst)`` answers ``(allowed, retry_after_seconds)``
in one round trip (``scripts/token_bucket.lua``, called by SHA), and raises
``DependencyUnavailableError("Redis")`` when Redis does not answer. ``allows(scope, subject, …)``
is the same check failing open: a limiter that cannot be asked lets the request through (the
join or the lookup it guards then decides), and says so in the log.
"""

from __future__ import annotations

import importlib.resources
import math

import structlog

from admitone.errors import DependencyUnavailableError
from admitone.outages import REDIS_DOWN
from admitone.redis_client import RedisClient

log = structlog.get_logger(__name__)

_SCRIPT = (
    importlib.resources.files("admitone.admission") / "scripts" / "token_bucket.lua"
).read_text(encoding="utf-8")

# Booking lookup: a burst of 5 tries, then one every 12 s (5 a minute) per client address.
# Enough for a fan who mistypes; far too slow to guess 10-character references.
LOOKUP_BURST = 5
LOOKUP_RATE_PER_SECOND = 5 / 60


def bucket_key(scope: str, subject: str) -> str:
    """The Redis key of one bucket, e.g. ``bucket_key("lookup", "203.0.113.9")``.

    The braces are the Cluster hash tag; a bucket is one key, so any slot will do.
    """
    return f"rl:{{{scope}:{subject}}}"


class RateLimiter:
    """Token buckets in Redis; the bucket's clock is Redis's ``TIME``."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._script = redis.register_script(_SCRIPT)
        self.prefix = prefix  # every bucket of this deployment starts with it

    async def take(
        self, key: str, rate_per_second: float, burst: float, cost: float = 1
    ) -> tuple[bool, float]:
        """Take ``cost`` tokens from bucket ``key`` (refilling at ``rate_per_second``, holding at
        most ``burst``); answer whether that was allowed and, if not, in how many seconds it
        would be."""
        if not rate_per_second > 0 or not burst >= 1 or not 0 < cost <= burst:
            raise ValueError("need rate_per_second > 0, burst >= 1 and 0 < cost <= burst")
        try:
            allowed, retry_ms, _left = await self._script(
                keys=[f"{self.prefix}:{key}"],
                args=[repr(float(rate_per_second)), repr(float(burst)), repr(float(cost))],
            )
        except REDIS_DOWN as exc:
            raise DependencyUnavailableError("Redis") from exc
        return bool(allowed), int(retry_ms) / 1000

    async def allows(
        self, scope: str, subject: str, rate_per_second: float, burst: float, *,
        quiet: bool = False,
    ) -> tuple[bool, float]:
        """One token from ``subject``'s bucket of ``scope``; ``(True, 0)`` when Redis is down,
        logged unless ``quiet`` (the join path: a crowd would write a line per fan, and the
        join itself reports Redis's state)."""
        try:
            return await self.take(bucket_key(scope, subject), rate_per_second, burst)
        except DependencyUnavailableError as exc:
            if not quiet:
                log.warning("rate_limiter_unavailable", limiter=scope, error=repr(exc.__cause__))
            return True, 0.0


def retry_after_header(seconds: float) -> int:
    """Seconds for a ``Retry-After`` header: whole, rounded up, at least 1."""
    return max(1, math.ceil(seconds))
