"""admitone under a surge (seed §15.3): fans queue for a show, get admitted, and book.

    locust -f loadtests/locustfile.py --headless -u 200 -r 50 --run-time 2m \
        --host http://127.0.0.1:8000 --show-id "$SHOW_ID"

Each ``SurgeFan`` runs cycles of (a) join the show's waiting room and wait, polling ``progress``
every second and ``status`` every 30 s or near the front, then (b) once admitted lock 1-4 seats
and check out (70 %) or release them (30 %). Bounds, whatever the command line says:
- only loopback hosts are accepted (127.0.0.0/8, localhost, [::1]);
- every fan stops (``StopUser``) after ``--max-cycles`` cycles, and the run ends once every fan
  has stopped;
- the run stops itself after ``--hard-stop-seconds`` even without ``--run-time``.
Without ``--show-id``, a show is created at start through the operator API when
``ADMITONE_OPERATOR_TOKEN`` is set (see setup_show.py). At the end the verdict
(``python -m loadtests.check``) runs on that show when ``--database-url`` and ``--redis-url``
(or ``ADMITONE_DATABASE_URL`` / ``ADMITONE_REDIS_URL``) are known; a broken invariant makes the
exit code 1. This file is also the base of ``booking_locustfile.py`` and
``operator_locustfile.py``: their users come with their own room (``room_plan``).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gevent
from locust import FastHttpUser, between, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import STATE_RUNNING, LocalRunner, MasterRunner, WorkerRunner
from scenarios.booking import book
from scenarios.bounds import is_loopback_url
from scenarios.http import record
from scenarios.queue_surge import wait_for_admission
from scenarios.verdict import run_check
from setup_show import SetupError, create_show

DEFAULT_HOST = "http://127.0.0.1:8000"
WATCH_INTERVAL_SECONDS = 2.0
ROOM_WARMUP_SECONDS = 3.0
log = logging.getLogger("admitone.loadtest")


@dataclass(frozen=True)
class RunOptions:
    """The scenario's own options (locust's command line or LOADTEST_* variables)."""

    show_id: str = ""
    max_cycles: int = 1
    max_queue_seconds: float = 300.0
    checkout_share: float = 0.7
    hard_stop_seconds: float = 900.0
    operator_token: str = ""
    database_url: str = ""
    redis_url: str = ""
    verdict_json: str = ""

    @classmethod
    def of(cls, environment: Environment) -> RunOptions:
        parsed: Any = environment.parsed_options
        if parsed is None:
            return cls()
        return cls(
            show_id=str(getattr(parsed, "show_id", "") or ""),
            max_cycles=max(1, int(getattr(parsed, "max_cycles", 1))),
            max_queue_seconds=max(1.0, float(getattr(parsed, "max_queue_seconds", 300.0))),
            checkout_share=min(1.0, max(0.0, float(getattr(parsed, "checkout_share", 0.7)))),
            hard_stop_seconds=max(1.0, float(getattr(parsed, "hard_stop_seconds", 900.0))),
            operator_token=str(getattr(parsed, "operator_token", "") or ""),
            database_url=str(getattr(parsed, "database_url", "") or ""),
            redis_url=str(getattr(parsed, "redis_url", "") or ""),
            verdict_json=str(getattr(parsed, "verdict_json", "") or ""),
        )


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]  # locust's EventHook
def _add_options(parser: Any) -> None:
    """The scenario's options, each also settable by environment variable."""
    parser.add_argument("--show-id", type=str, env_var="LOADTEST_SHOW_ID", default="",
                        help="show whose waiting room the fans join (setup_show.py prints one)")
    parser.add_argument("--max-cycles", type=int, env_var="LOADTEST_MAX_CYCLES", default=1,
                        help="queue-then-book cycles per fan before it stops")
    parser.add_argument("--max-queue-seconds", type=float, env_var="LOADTEST_MAX_QUEUE_SECONDS",
                        default=300.0, help="a fan leaves the queue after waiting this long")
    parser.add_argument("--checkout-share", type=float, env_var="LOADTEST_CHECKOUT_SHARE",
                        default=0.7, help="share of locks that go on to checkout (others release)")
    parser.add_argument("--hard-stop-seconds", type=float, env_var="LOADTEST_HARD_STOP_SECONDS",
                        default=900.0, help="the run stops itself after this many seconds")
    parser.add_argument("--operator-token", type=str, env_var="ADMITONE_OPERATOR_TOKEN",
                        default="", include_in_web_ui=False,
                        help="used only to create a show when --show-id is not given")
    parser.add_argument("--database-url", type=str, env_var="ADMITONE_DATABASE_URL", default="",
                        include_in_web_ui=False,
                        help="admitone's PostgreSQL, for the verdict at the end of the run")
    parser.add_argument("--redis-url", type=str, env_var="ADMITONE_REDIS_URL", default="",
                        include_in_web_ui=False,
                        help="admitone's Redis, for the verdict at the end of the run")
    parser.add_argument("--verdict-json", type=str, env_var="LOADTEST_VERDICT_JSON", default="",
                        include_in_web_ui=False, help="also write the verdict's lines here")


def _stop(environment: Environment, reason: str, exit_code: int | None = None) -> None:
    """Quit the run from a greenlet of its own (quitting inside test_start would not stop it)."""
    log.warning("stopping the load run: %s", reason)
    if exit_code is not None:
        environment.process_exit_code = exit_code
    if environment.runner is not None:
        gevent.spawn_later(0.1, environment.runner.quit)


def _watch_bounds(environment: Environment, deadline: float) -> None:
    """End the run at the hard deadline, or once every fan has stopped after its cycles."""
    runner = environment.runner
    while runner is not None:
        gevent.sleep(WATCH_INTERVAL_SECONDS)
        if time.monotonic() >= deadline:
            _stop(environment, "hard stop time reached")
            return
        if runner.state == STATE_RUNNING and runner.user_count == 0:
            _stop(environment, "every fan finished its cycles")
            return


@events.test_start.add_listener  # type: ignore[untyped-decorator]  # locust's EventHook
def _on_test_start(environment: Environment, **_kwargs: Any) -> None:
    """Refuse non-loopback hosts, create a show if none is given, and arm the hard stop."""
    if isinstance(environment.runner, WorkerRunner):
        return  # the master checks and watches; workers only run fans
    host = environment.host or DEFAULT_HOST
    if not is_loopback_url(host):
        _stop(environment, f"host {host!r} is not a loopback address", exit_code=2)
        return
    options = RunOptions.of(environment)
    if not options.show_id:
        if not options.operator_token:
            _stop(environment, "no --show-id and no ADMITONE_OPERATOR_TOKEN to create a show",
                  exit_code=2)
            return
        plan = next((getattr(user, "room_plan", None) for user in environment.user_classes
                     if getattr(user, "room_plan", None)), None) or {}
        try:
            show_id = create_show(host, options.operator_token, **plan)
        except (SetupError, ValueError, OSError) as exc:
            _stop(environment, f"could not create a show: {exc}", exit_code=2)
            return
        environment.parsed_options.show_id = show_id  # type: ignore[union-attr]
        log.warning("created show %s for this run", show_id)
        # As a room set up before its sale: the scheduler picks a new room up within its
        # refresh (2 s) and ticks it from then on, so fans who join after that are told waits
        # that follow the ticks; fans arriving before a room's first tick are told a guess
        # (admission/eta.py), up to a couple of seconds off.
        gevent.sleep(ROOM_WARMUP_SECONDS)
    if isinstance(environment.runner, LocalRunner | MasterRunner):
        gevent.spawn(_watch_bounds, environment, time.monotonic() + options.hard_stop_seconds)


@events.quitting.add_listener  # type: ignore[untyped-decorator]  # locust's EventHook
def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
    """The verdict on the run's show; a broken invariant makes the exit code 1."""
    if isinstance(environment.runner, WorkerRunner) or environment.process_exit_code:
        return
    options = RunOptions.of(environment)
    if not options.show_id:
        return
    if not (options.database_url and options.redis_url):
        log.warning("no verdict: give --database-url and --redis-url (or ADMITONE_DATABASE_URL "
                    "and ADMITONE_REDIS_URL), or run python -m loadtests.check --show-id %s",
                    options.show_id)
        return
    code, _ = run_check(options.show_id, options.database_url, options.redis_url,
                        Path(options.verdict_json) if options.verdict_json else None)
    if code != 0:
        environment.process_exit_code = 1


class SurgeFan(FastHttpUser):
    """A fan in the surge: queue, admission, then booking; stops after ``--max-cycles``."""

    host = DEFAULT_HOST
    wait_time = between(1, 3)
    # Surge polling opens few connections per fan; keep the pool small.
    concurrency = 2
    # The room a show made for this run gets (setup_show.create_show's keywords).
    room_plan: ClassVar[dict[str, Any]] = {"rows": 10, "seats_per_row": 20,
                                           "release_rate_per_minute": 600, "max_active": 200}

    def on_start(self) -> None:
        """Refuse to run against anything but this machine; start counting cycles."""
        if not (is_loopback_url(self.host) and is_loopback_url(self.environment.host or self.host)):
            raise StopUser
        self.cycles = 0
        self.rng = random.Random()

    @task
    def queue_then_book(self) -> None:
        """One cycle: (a) wait in the queue until admitted, (b) book with the access token."""
        options = RunOptions.of(self.environment)
        if not options.show_id or self.cycles >= options.max_cycles:
            raise StopUser
        self.cycles += 1
        started = time.monotonic()
        access_token = wait_for_admission(self, options.show_id, options.max_queue_seconds)
        if access_token is not None:
            book(self, options.show_id, access_token, self.rng, options.checkout_share)
        record(self.environment, "FLOW", "whole cycle", (time.monotonic() - started) * 1000)
        if self.cycles >= options.max_cycles:
            raise StopUser
