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

from admitone.cli import JOBS_STOP_SECONDS
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
        "ADMITONE_SANDBOX_PAYMENTS": "1",
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


def test_up_serve_and_jobs_refuse_the_sandbox_unless_it_is_asked_for(
    settings: Settings, tmp_path: Path
) -> None:
    """With the default provider (the sandbox) and ADMITONE_SANDBOX_PAYMENTS unset, `up`,
    `serve` and `jobs` stop with one line before serving anything: free tickets are never
    the default."""
    env = _environment(settings, tmp_path / "data")
    del env["ADMITONE_SANDBOX_PAYMENTS"]
    for command in ("up", "serve", "jobs"):
        result = subprocess.run(  # noqa: S603 - our own command line
            [sys.executable, "-m", "admitone.cli", command], env=env, capture_output=True,
            text=True, timeout=60, check=False,
        )
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (command, result.stderr)
        assert "ADMITONE_PAYMENT_PROVIDER=sandbox takes no money" in lines[0]
        assert "ADMITONE_SANDBOX_PAYMENTS=1" in lines[0]


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
        # SIGTERM: the jobs finish their round, close pools and give the lease up, cleanly
        # (0) and well before the hard-exit guard (which would exit 143 after 20 s).
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert time.monotonic() - stopped_at < JOBS_STOP_SECONDS / 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


def test_up_and_serve_stop_at_once_when_their_port_is_taken(
    settings: Settings, tmp_path: Path
) -> None:
    """A taken port used to leave ``up`` hanging for ever, deaf to signals: both commands now
    exit non-zero with one line naming the port."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = int(holder.getsockname()[1])
        env = _environment(settings, tmp_path / "data", ADMITONE_PORT=str(port))
        for command in ("serve", "up"):
            result = subprocess.run(  # noqa: S603 - our own command line
                [sys.executable, "-m", "admitone.cli", command], env=env, capture_output=True,
                text=True, timeout=60, check=False,
            )
            assert result.returncode != 0, (command, result.stdout, result.stderr)
            assert result.stderr.strip() == f"admitone: port {port} on 127.0.0.1 is in use"


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc's parent ids)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found.extend(children)
        frontier.extend(children)
    return found


def test_serve_keeps_secrets_out_of_its_workers_environment(
    settings: Settings, tmp_path: Path
) -> None:
    """The workers used to get the operator token, the webhook secret and the database and
    Redis URLs (passwords included) in their environment, readable in every worker's
    /proc/<pid>/environ. They now read them from a 0600 file that is gone once serve stops."""
    assert settings.database_url is not None
    port = _free_port()
    env = _environment(settings, tmp_path / "data", ADMITONE_WORKERS="2",
                       ADMITONE_PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "-m", "admitone.cli", "serve"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, "serve did not answer"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        workers = _descendants(process.pid)
        assert len(workers) >= 2
        handoff = None
        for pid in workers:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            for secret in (OPERATOR_TOKEN, WEBHOOK_SECRET, settings.database_url):
                assert secret.encode() not in environ, (pid, secret)
            for entry in environ.split(b"\0"):
                if entry.startswith(b"ADMITONE_HANDOFF_FILE="):
                    handoff = Path(entry.split(b"=", 1)[1].decode())
        assert handoff is not None
        assert handoff.stat().st_mode & 0o777 == 0o600
        assert handoff.parent.stat().st_mode & 0o777 == 0o700
        # The workers did get them: the operator API takes the token.
        stats = httpx.get(f"http://127.0.0.1:{port}/api/v1/admin/shows/none/waiting-room",
                          headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}, timeout=5)
        assert stats.status_code == 404, stats.text
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert not handoff.exists()
