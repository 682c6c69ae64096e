"""How many fans may enter now: the admission maths, from numbers only (no I/O).

``queue/scripts/admit.lua`` does the same sums inside Redis, atomically with the admission
itself; these functions are the reference the tests hold it to, and what the gateway uses for
estimates.
"""

from __future__ import annotations

import math

MS_PER_MINUTE = 60_000
MAX_WAIT_SECONDS = 7 * 86_400  # estimates past a week say nothing more
# The bucket holds what built up since the last tick up to this many ticks' worth: a tick that
# runs late (a busy machine) still admits what its lateness earned, and a room that opens or
# resumes starts from an empty bucket, so it never releases a burst.
BUCKET_TICKS = 2


def bucket_capacity(release_rate_per_minute: int, tick_ms: int) -> float:
    """The bucket holds at most two ticks' worth of admissions: a late tick (up to a whole tick
    late) loses nothing, and since a paused or closed room keeps its bucket empty, a room that
    opens or resumes releases smoothly, never in a burst. Below a fan a tick it holds one
    tick's worth more than a fan, so that the fraction left after a fan is let in is never cut
    (a cap of one fan lost it: rooms slower than two fans a tick ran under their rate); a tick
    still lets in one fan at most."""
    per_tick = release_rate_per_minute * tick_ms / MS_PER_MINUTE
    return max(1.0 + per_tick, BUCKET_TICKS * per_tick) if per_tick < 1 else BUCKET_TICKS * per_tick


def refill(bucket: float, elapsed_ms: int, release_rate_per_minute: int, tick_ms: int) -> float:
    """The bucket after ``elapsed_ms`` at ``release_rate_per_minute``, capped at two ticks."""
    gained = max(0, elapsed_ms) * release_rate_per_minute / MS_PER_MINUTE
    return min(bucket_capacity(release_rate_per_minute, tick_ms), bucket + gained)


def admit_count(bucket: float, max_active: int, active: int, waiting: int) -> int:
    """How many to admit now: whole tokens in the bucket, free slots and fans waiting allow."""
    return max(0, min(math.floor(bucket), max_active - active, waiting))


def estimated_wait_seconds(
    position: int, observed_per_minute: float, release_rate_per_minute: int
) -> int:
    """Seconds until the fan at ``position`` (1 = next) is let in, at the rate observed over
    the last minute; before any admission was observed, at the configured rate."""
    if position <= 0:
        return 0
    per_minute = observed_per_minute if observed_per_minute > 0 else release_rate_per_minute
    if per_minute <= 0:
        return 0
    return min(MAX_WAIT_SECONDS, math.ceil(min(position * 60 / per_minute, MAX_WAIT_SECONDS)))
