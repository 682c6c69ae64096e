"""The verdict at the end of every scenario: ``python -m loadtests.check`` on the run's show.

It runs in a process of its own (asyncpg and redis-py's asyncio client have no business
inside locust's gevent-patched process) on the master or the local runner, never on workers.
A broken invariant makes the locust run's exit code 1.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the folder that holds loadtests/
VERDICT_TIMEOUT_SECONDS = 120
log = logging.getLogger("admitone.loadtest")


def run_check(
    show_id: str, database_url: str, redis_url: str, json_path: Path | None = None
) -> tuple[int, dict[str, Any] | None]:
    """The checker's exit code (0 all zeros, 1 broken, 2 unreadable) and its JSON lines."""
    out = json_path or ROOT / f".verdict-{show_id}.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run(  # noqa: S603 - this interpreter running our own checker
        [sys.executable, "-m", "loadtests.check", "--show-id", show_id, "--database-url",
         database_url, "--redis-url", redis_url, "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=VERDICT_TIMEOUT_SECONDS,
        check=False,
    )
    sys.stdout.write(done.stdout)
    if done.stderr:
        sys.stderr.write(done.stderr)
    lines = json.loads(out.read_text()) if out.exists() else None
    if json_path is None:
        out.unlink(missing_ok=True)
    return done.returncode, lines
