"""Processes starting at once on one fresh data folder (``up``'s workers and jobs, two jobs pods
on one volume) agree on the first signing key and on each generated secret, and none fails:
nobody reads a file another is still writing, nobody trips over one made meanwhile."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from admitone.admission.signing_keys import KeyRing
from admitone.secrets_store import load_or_create_secret

PROCESSES = 12
ROUNDS = 5


def _start(folder: str, barrier: Any, out: Any) -> None:
    barrier.wait()
    try:
        kid = KeyRing.load(Path(folder) / "keys").current.kid
        secret = load_or_create_secret(Path(folder), "payment-webhook-secret")
        out.put(("ok", kid, secret))
    except Exception as exc:  # noqa: BLE001 - the test reports what failed
        out.put(("error", repr(exc), ""))


def test_processes_starting_together_share_one_key_and_one_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        folder = tmp_path / f"data-{round_}"
        barrier, out = context.Barrier(PROCESSES), context.Queue()
        workers = [context.Process(target=_start, args=(str(folder), barrier, out))
                   for _ in range(PROCESSES)]
        for worker in workers:
            worker.start()
        answers = [out.get(timeout=30) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)

        assert [a for a in answers if a[0] != "ok"] == []
        assert len({a[1] for a in answers}) == 1, answers
        assert len({a[2] for a in answers}) == 1, answers
        assert all(a[2] for a in answers)  # nobody read an empty secret
        assert sorted(p.name for p in (folder / "keys").iterdir()) == ["signing-000001.pem"]
        assert sorted(p.name for p in (folder / "secrets").iterdir()) == ["payment-webhook-secret"]
