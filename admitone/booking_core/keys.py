"""Redis keys of the booking core. The braces are the Cluster hash tag: one show, one slot."""

from __future__ import annotations


def seat_map_key(show_id: str) -> str:
    """The short-lived cached seat map of a show (encoded JSON)."""
    return f"bc:{{show:{show_id}}}:seatmap"


def seat_channel(show_id: str) -> str:
    """Pub/sub channel of a show's seat changes, for live seat maps."""
    return f"bc:{{show:{show_id}}}:seats"


def live_minute_key(show_id: str, minute: int) -> str:
    """Hash: one minute (unix seconds // 60) of a show's live figures for the operator console:
    counters, the last sample of each gauge, latency histogram buckets (``live_stats.py``)."""
    return f"bc:{{show:{show_id}}}:live:{minute}"


def funnel_key(show_id: str, step: str) -> str:
    """Set: the distinct visitors of a show who reached one funnel step (``live_stats.py``)."""
    return f"bc:{{show:{show_id}}}:funnel:{step}"
