"""What counting costs on the hot paths: one in-process metric update per join or lock, and the
log context bound when a token is verified (README, "Observability").

    python bench/metrics_overhead.py                                   # one worker
    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) python bench/metrics_overhead.py   # several workers

Prints the best of seven runs of 50,000 calls each, in nanoseconds per call.
"""

from __future__ import annotations

import os
import timeit
from collections.abc import Callable

import structlog

from admitone import observability

SHOW = "634ba08b-dd69-4819-b94d-40a7f06b6e81"
CALLS = 50_000


def main() -> None:
    observability.SHOW_LABELS.replace([SHOW])
    child = observability.QUEUE_JOINS.labels(SHOW, "waiting")
    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "one process"
    cases: list[tuple[str, Callable[[], object]]] = [
        ("empty call (calibration)", lambda: None),
        ("prometheus_client child .inc()", child.inc),
        ("count_join, a labelled show", lambda: observability.count_join(SHOW, "WAITING")),
        ("count_join, another show", lambda: observability.count_join("x", "WAITING")),
        ("count_lock, locked, 2 seats", lambda: observability.count_lock(SHOW, "locked", 2)),
        ("bind visitor_id + show_id", lambda: structlog.contextvars.bind_contextvars(
            visitor_id="v", show_id=SHOW)),
    ]
    for name, call in cases:
        best = min(timeit.repeat(call, number=CALLS, repeat=7)) / CALLS * 1e9
        print(f"{mode:>12}  {name:<32} {best:7.0f} ns")


if __name__ == "__main__":
    main()
