"""A Redis token bucket, shared by every gateway replica: booking lookup, queue joins, …

``RateLimiter(redis, prefix).take(key, rate_per_second, burst)`` answers
``(allowed, retry_after_seconds)`` in one round trip (``scripts/token_bucket.lua``, called by
SHA). It raises Redis's own errors when Redis does not answer: whether a limiter fails open or
closed is the caller's decision.
"""

from __future__ import annotations

import importlib.resources
import math

from admitone.redis_client import RedisClient

_SCRIPT = (
    importlib.resources.files("admitone.gateway") / "scripts" / "token_bucket.lua"
).read_text(encoding="utf-8")


def bucket_key(scope: str, subject: str) -> str:
    """The name of one bucket, e.g. ``bucket_key("lookup", "203.0.113.9")``; its Redis key is
    this name after the deployment's prefix, which :meth:`RateLimiter.take` puts in front.

    The braces are the Cluster hash tag; a bucket is one key, so any slot will do.
    """
    return f"rl:{{{scope}:{subject}}}"


class RateLimiter:
    """Token buckets in Redis; the bucket's clock is Redis's ``TIME``. Every bucket's key starts
    with ``prefix``, so deployments sharing one Redis count their clients apart."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._script = redis.register_script(_SCRIPT)
        self.prefix = prefix

    async def take(
        self, key: str, rate_per_second: float, burst: float, cost: float = 1
    ) -> tuple[bool, float]:
        """Take ``cost`` tokens from bucket ``key`` (refilling at ``rate_per_second``, holding at
        most ``burst``); answer whether that was allowed and, if not, in how many seconds it
        would be."""
        if not rate_per_second > 0 or not burst >= 1 or not 0 < cost <= burst:
            raise ValueError("need rate_per_second > 0, burst >= 1 and 0 < cost <= burst")
        allowed, retry_ms, _left = await self._script(
            keys=[f"{self.prefix}:{key}"],
            args=[repr(float(rate_per_second)), repr(float(burst)), repr(float(cost))],
        )
        return bool(allowed), int(retry_ms) / 1000


def retry_after_header(seconds: float) -> int:
    """Seconds for a ``Retry-After`` header: whole, rounded up, at least 1."""
    return max(1, math.ceil(seconds))
