"""The show label of in-process metrics is bounded to the shows on sale."""

from __future__ import annotations

from admitone import observability
from admitone.observability import MAX_LABELLED_SHOWS, OTHER_SHOW, SEAT_LOCKS, ShowLabels


def test_at_most_the_cap_of_shows_are_labels() -> None:
    """Of more shows on sale than the cap, the first ``MAX_LABELLED_SHOWS`` become labels."""
    labels = ShowLabels()
    shows = [f"show-{n}" for n in range(MAX_LABELLED_SHOWS + 10)]
    labels.replace(shows)
    assert len(labels.shows) == MAX_LABELLED_SHOWS
    assert labels.label("show-0") == "show-0"
    assert labels.label(shows[-1]) == OTHER_SHOW


def test_counts_of_a_show_not_on_sale_go_to_other() -> None:
    """A lock of a show outside the labelled set is counted under show="other", and once the
    show is labelled, under its own id."""
    saved = sorted(observability.SHOW_LABELS.shows)
    try:
        observability.SHOW_LABELS.replace([])
        before = SEAT_LOCKS.labels(OTHER_SHOW, "locked")._value.get()
        observability.count_lock("unlabelled-show", "locked", 2)
        assert SEAT_LOCKS.labels(OTHER_SHOW, "locked")._value.get() == before + 1
        observability.SHOW_LABELS.replace(["unlabelled-show"])
        observability.count_lock("unlabelled-show", "locked", 2)
        assert SEAT_LOCKS.labels("unlabelled-show", "locked")._value.get() == 1
    finally:
        observability.SHOW_LABELS.replace(saved)
