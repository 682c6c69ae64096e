"""Redis keys of the booking core. The braces are the Cluster hash tag: one show, one slot."""

from __future__ import annotations


def seat_map_key(show_id: str) -> str:
    """The short-lived cached seat map of a show (encoded JSON)."""
    return f"bc:{{show:{show_id}}}:seatmap"


def seat_channel(show_id: str) -> str:
    """Pub/sub channel of a show's seat changes, for live seat maps."""
    return f"bc:{{show:{show_id}}}:seats"


def stream_ticket_key(show_id: str, ticket: str) -> str:
    """A seat-stream ticket (value: the visitor id); it opens only this show's stream."""
    return f"bc:{{show:{show_id}}}:stream-ticket:{ticket}"
