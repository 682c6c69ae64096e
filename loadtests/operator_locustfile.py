"""The surge with an operator at the controls: the rate changes and the room pauses mid-run.

    locust -f loadtests/operator_locustfile.py --headless -u 300 -r 100 --run-time 3m \\
        --host http://127.0.0.1:8000 --csv operator --html operator.html

The fans are locustfile.py's ``SurgeFan``s. One ``RoomOperator`` (its own user, ``fixed_count
= 1``) works the operator API (``Authorization: Bearer $ADMITONE_OPERATOR_TOKEN``) every
``--operator-step-seconds`` (default 15): doubles ``releaseRatePerMinute``, pauses the room,
resumes it, then puts the first rate back, and stops. The verdict at the end must still read
all zeros: capacity, FIFO order and the accounting of every fan hold through the changes; the
rate is compared only over whole minutes at one unchanged rate.
"""

from __future__ import annotations

import gevent
import locustfile as surge
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser
from scenarios.bounds import is_loopback_url
from scenarios.http import call, record

SurgeFan = surge.SurgeFan  # the fans of this scenario (locust runs every User class here)
ROOM_PATH = "/api/v1/admin/shows/{}/waiting-room"


@events.init_command_line_parser.add_listener
def _add_options(parser):  # type: ignore[no-untyped-def]  # locust's parser
    parser.add_argument("--operator-step-seconds", type=float, env_var="LOADTEST_OPERATOR_STEP",
                        default=15.0, help="seconds between the operator's changes")


class RoomOperator(FastHttpUser):
    """One operator changing the running room through the API, step by step."""

    host = surge.DEFAULT_HOST
    fixed_count = 1  # one operator, whatever -u says; every other user is a fan
    wait_time = constant(0)
    room_plan = SurgeFan.room_plan

    def on_start(self) -> None:
        """Loopback only; the operator token is needed."""
        if not (is_loopback_url(self.host) and is_loopback_url(self.environment.host or self.host)):
            raise StopUser
        self.steps_done = False

    @task
    def work_the_room(self) -> None:
        """Rate x2, pause, resume, rate back: one PATCH each, ``--operator-step-seconds`` apart."""
        options = surge.RunOptions.of(self.environment)
        if self.steps_done or not options.show_id or not options.operator_token:
            raise StopUser
        step = float(getattr(self.environment.parsed_options, "operator_step_seconds", 15.0))
        headers = {"Authorization": f"Bearer {options.operator_token}"}
        path = ROOM_PATH.format(options.show_id)
        room = call(self, "GET", path, name="/api/v1/admin/shows/[showId]/waiting-room",
                    headers=headers)
        rate = int(room.body["releaseRatePerMinute"]) if isinstance(room.body, dict) else 600
        for change in ({"releaseRatePerMinute": rate * 2}, {"paused": True}, {"paused": False},
                       {"releaseRatePerMinute": rate}):
            gevent.sleep(step)
            call(self, "PATCH", path, name="PATCH /api/v1/admin/shows/[showId]/waiting-room",
                 headers=headers, json=change)
            record(self.environment, "OPERATOR", ", ".join(f"{k}={v}" for k, v in change.items()))
        self.steps_done = True
        raise StopUser
