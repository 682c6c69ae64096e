"""``admitone serve`` (HTTP workers only) and ``admitone jobs`` (background jobs only), the
container split of ``admitone up``, run as real processes on the suite's servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from admitone.settings import Settings
from tests.conftest import OPERATOR_TOKEN, WEBHOOK_SECRET


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    assert settings.database_url is not None
    assert settings.redis_url is not None
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADMITONE_")}
    env.update({
        "ADMITONE_DATABASE_URL": settings.database_url, "ADMITONE_REDIS_URL": settings.redis_url,
        "ADMITONE_DATA_DIR": str(data_dir), "ADMITONE_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "ADMITONE_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMITONE_LOG_LEVEL": "warning",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **extra,
    })
    return env


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serve_runs_two_http_workers_that_share_one_signing_key(
    settings: Settings, tmp_path: Path, server: str
) -> None:
    """Two workers answer /readyz and publish the same JWKS: the signing key is made once,
    before the workers start, not by each of them; alike on both ASGI servers, and SIGTERM
    stops either cleanly."""
    port = _free_port()
    env = _environment(settings, tmp_path / "data", ADMITONE_WORKERS="2",
                       ADMITONE_PORT=str(port), ADMITONE_HTTP_SERVER=server)
    process = subprocess.Popen(
        [sys.executable, "-m", "admitone.cli", "serve"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        jwks = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(jwks) < 1:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            assert ready.status_code == 200, ready.text
            for _ in range(20):  # new connections, spread over both workers
                with httpx.Client() as http:
                    jwks.add(http.get(f"http://127.0.0.1:{port}/.well-known/jwks.json").text)
        assert len(jwks) == 1
        assert len(list((tmp_path / "data" / "keys").glob("signing-*.pem"))) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert "with 2 worker(s)" in output
    assert process.returncode == 0, output


def test_serve_and_jobs_refuse_to_start_without_both_urls(tmp_path: Path) -> None:
    """Without ADMITONE_DATABASE_URL and ADMITONE_REDIS_URL both commands stop with one line."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADMITONE_")}
    env["ADMITONE_DATA_DIR"] = str(tmp_path)
    for command in ("serve", "jobs"):
        result = subprocess.run(  # noqa: S603 - our own command line
            [sys.executable, "-m", "admitone.cli", command], env=env, capture_output=True,
            text=True, timeout=60, check=False,
        )
        assert result.returncode == 2
        assert f"admitone {command} needs ADMITONE_DATABASE_URL" in result.stderr


def test_jobs_beats_while_it_runs_and_check_says_so(settings: Settings, tmp_path: Path) -> None:
    """`admitone jobs --check` fails before the jobs process beat, passes while it runs."""
    env = _environment(settings, tmp_path / "data")

    def check() -> int:
        return subprocess.run(
            [sys.executable, "-m", "admitone.cli", "jobs", "--check"], env=env,
            capture_output=True, timeout=60, check=False,
        ).returncode

    assert check() != 0
    process = subprocess.Popen(
        [sys.executable, "-m", "admitone.cli", "jobs"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "data" / "jobs-heartbeat").exists():
            assert time.monotonic() < deadline, "admitone jobs never beat"
            time.sleep(0.3)
        assert check() == 0
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
