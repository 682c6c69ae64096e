"""The locust scenarios import and keep their bounds — checked in a process of their own.

Importing locust pulls in gevent, which must not share a process with the browser tests'
threads (an import-lock deadlock was seen when it did), so the checks in
``tests/loadtest_checks/`` run under a separate pytest.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(330)  # the child run has 300 s of its own
def test_locust_scenarios_in_their_own_process() -> None:
    """Every check in tests/loadtest_checks passes in a fresh interpreter."""
    if importlib.util.find_spec("locust") is None:
        pytest.skip("locust is not installed: it is the [load] extra (.ci/run installs it)")
    result = subprocess.run(  # noqa: S603 - this interpreter running pytest on our own tests
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "loadtest_checks")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
