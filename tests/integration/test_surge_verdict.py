"""A short real surge: ``admitone up`` on the suite's servers, locust's surge scenario against
it for at most 50 s, and the verdict it runs at its end. Asserts the invariants, not speed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
FANS = 200
OPERATOR_TOKEN = "surge-operator-token-0123456789abcdef"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[str]:
    """``python -m admitone.cli up`` (one worker, jobs inside it) on the suite's database and
    Redis; its base URL. Stopped by its process group at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMITONE_")}
    env.update(ADMITONE_DATABASE_URL=database_url, ADMITONE_REDIS_URL=redis_url,
               ADMITONE_DATA_DIR=str(tmp_path / "data"), ADMITONE_OPERATOR_TOKEN=OPERATOR_TOKEN,
               ADMITONE_PORT=str(port), ADMITONE_HOST="127.0.0.1", ADMITONE_WORKERS="1",
               ADMITONE_LOG_LEVEL="warning", ADMITONE_SANDBOX_PAYMENTS="1",
               # every fan comes from 127.0.0.1: the per-IP join limit would see one client
               ADMITONE_QUEUE_JOIN_RATE_PER_SECOND="100000", ADMITONE_QUEUE_JOIN_BURST="100000",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "admitone.cli", "up"], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("admitone up did not start: "
                        + (tmp_path / "server.log").read_text(errors="replace")[-2000:])
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the group is ours alone
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        log.close()


async def test_a_short_surge_keeps_every_invariant(
    server: str, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """200 fans join, wait, lock, pay or release within 50 s; the verdict at the end of the
    run reads all zeros (no seat sold twice, no fan lost, FIFO kept, …) and seats were sold."""
    verdict = tmp_path / "verdict.json"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests" / "locustfile.py"),
         "--headless", "-u", str(FANS), "-r", "100", "--run-time", "50s", "--host", server,
         "--operator-token", OPERATOR_TOKEN, "--database-url", database_url, "--redis-url",
         redis_url, "--verdict-json", str(verdict), "--only-summary",
         "--hard-stop-seconds", "55", "--csv", str(tmp_path / "surge")],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT),
                                                          os.environ.get("PYTHONPATH", "")])},
    )
    output = done.stdout[-3000:] + done.stderr[-3000:]
    assert verdict.exists(), output
    result = json.loads(verdict.read_text())
    lines = {line["check"]: line for line in result["lines"]}
    assert [name for name, line in lines.items() if line["verdict"] == "BROKEN"] == [], output
    assert done.returncode == 0, output
    assert lines["fans lost"]["value"].startswith("0 ")
    assert f"joined {FANS} " in lines["fans lost"]["value"]
    conn = await asyncpg.connect(database_url)
    try:
        confirmed = await conn.fetchval(
            "SELECT count(*) FROM bookings WHERE show_id = $1 AND status = 'CONFIRMED'",
            uuid.UUID(result["showId"]))
    finally:
        await conn.close()
    assert confirmed > 0, output
