"""The booking rush: admitted fans only, hammering locks and checkouts on one hot show.

    locust -f loadtests/booking_locustfile.py --headless -u 100 -r 50 --run-time 2m \\
        --host http://127.0.0.1:8000 --csv booking --html booking.html

Each ``HotShowBuyer`` is let in at once (the room it gets admits 6,000 a minute, up to 1,000
at a time), then buys like a fan who knows what they want: seat map, lock 1-4 seats (a 409
sends it to the alternatives or a fresh pick), a think of 0-0.5 s, then 70 % check out and pay
in the sandbox, 30 % release. Then it queues again as a new fan (one visitor's seat limit would
stop it otherwise) and buys again, until the show is sold out. The run ends when every buyer
has seen the show sold out, at ``--run-time``, or at ``--hard-stop-seconds``; the verdict
follows (see locustfile.py, whose options and bounds this scenario shares).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import locustfile as surge
from locust import FastHttpUser, between, task
from locust.exception import StopUser
from scenarios.booking import book
from scenarios.bounds import is_loopback_url
from scenarios.queue_surge import wait_for_admission

THINK_SECONDS = (0.0, 0.5)


class HotShowBuyer(FastHttpUser):
    """An admitted fan buying on the hot show, again and again until it is sold out."""

    host = surge.DEFAULT_HOST
    wait_time = between(0.0, 0.2)
    concurrency = 2
    room_plan: ClassVar[dict[str, Any]] = {"rows": 10, "seats_per_row": 30,
                                           "release_rate_per_minute": 6_000, "max_active": 1_000}

    def on_start(self) -> None:
        """Refuse to run against anything but this machine."""
        if not (is_loopback_url(self.host) and is_loopback_url(self.environment.host or self.host)):
            raise StopUser
        self.rng = random.Random()

    @task
    def buy(self) -> None:
        """Queue (admitted within a tick), then lock and check out or release."""
        options = surge.RunOptions.of(self.environment)
        if not options.show_id:
            raise StopUser
        access_token = wait_for_admission(self, options.show_id, options.max_queue_seconds)
        if access_token is None:
            return
        outcome = book(self, options.show_id, access_token, self.rng, options.checkout_share,
                       think_seconds=THINK_SECONDS)
        if outcome == "SOLD_OUT":
            raise StopUser
