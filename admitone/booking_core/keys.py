"""Redis keys of the booking core. Each starts with the deployment's prefix
(``Settings.redis_key_prefix``); the braces are the Cluster hash tag: one show, one slot."""

from __future__ import annotations


def seat_map_key(prefix: str, show_id: str) -> str:
    """The short-lived cached seat map of a show (encoded JSON)."""
    return f"{prefix}:bc:{{show:{show_id}}}:seatmap"


def seat_channel(prefix: str, show_id: str) -> str:
    """Pub/sub channel of a show's seat changes, for live seat maps. Pub/sub knows no database
    numbers, so without the prefix two deployments on one Redis would hear each other's."""
    return f"{prefix}:bc:{{show:{show_id}}}:seats"


def stream_ticket_key(prefix: str, show_id: str, ticket: str) -> str:
    """A seat-stream ticket (value: the visitor id); it opens only this show's stream."""
    return f"{prefix}:bc:{{show:{show_id}}}:stream-ticket:{ticket}"


def live_minute_key(prefix: str, show_id: str, minute: int) -> str:
    """Hash: one minute (unix seconds // 60) of a show's live figures for the operator console:
    counters, the last sample of each gauge, latency histogram buckets (``live_stats.py``)."""
    return f"{prefix}:bc:{{show:{show_id}}}:live:{minute}"


def funnel_key(prefix: str, show_id: str, step: str) -> str:
    """Set: the distinct visitors of a show who reached one funnel step (``live_stats.py``)."""
    return f"{prefix}:bc:{{show:{show_id}}}:funnel:{step}"
