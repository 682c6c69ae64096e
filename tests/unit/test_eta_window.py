"""The last ten minutes of the ETA error histograms (admission/eta.py ``accuracy``): which
minute slots count. A slot stamped a minute ahead of the reader's clock (another clock, or
the seconds around a minute's turn) counts as the current one; one stamped ten minutes ago
or more, or two minutes ahead, does not."""

from __future__ import annotations

from admitone.admission.eta import MS_PER_MINUTE, accuracy

NOW_MINUTE = 29_000_000


def _fields(stamped: dict[str, int]) -> dict[str, str]:
    """Slots named by a letter, each stamped with its minute and holding 2 errors of 5 %
    at join and 1 worst answer of 40 %; the totals since the room began."""
    fields = {"a:5": str(2 * len(stamped)), "wa:40": str(len(stamped))}
    for slot, minute in stamped.items():
        fields.update({f"m{slot}": str(minute), f"{slot}:5": "2", f"w{slot}:40": "1"})
    return fields


def test_the_recent_window_takes_a_slot_a_minute_ahead_and_not_older_ones() -> None:
    now_ms = NOW_MINUTE * MS_PER_MINUTE + 59_000  # the last second of the reader's minute
    found = accuracy(_fields({"x": NOW_MINUTE + 1, "y": NOW_MINUTE, "z": NOW_MINUTE - 9,
                              "old": NOW_MINUTE - 10, "far": NOW_MINUTE + 2}), now_ms)
    assert found.at_join.fans == 10  # since the room began: every slot
    assert found.last_10_minutes.fans == 6  # x, y and z
    assert found.last_10_minutes.median_percent == 5
    assert found.any_answer.fans == 5
    assert found.any_answer_last_10_minutes.fans == 3
    assert found.any_answer_last_10_minutes.p90_percent == 40


def test_an_empty_window_has_no_figures() -> None:
    found = accuracy(_fields({"old": NOW_MINUTE - 12}), NOW_MINUTE * MS_PER_MINUTE)
    assert found.last_10_minutes.fans == 0
    assert found.last_10_minutes.p90_percent is None
    assert found.at_join.fans == 2
