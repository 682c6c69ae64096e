"""Smoke tests of the locust load tests in loadtests/: they import, and their bounds hold.

No load is run here. Locust is imported with ``LOCUST_SKIP_MONKEY_PATCH`` so gevent does not patch
the test process's sockets and threads; nothing here sends a request.
"""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

LOADTESTS = Path(__file__).resolve().parents[2] / "loadtests"


@pytest.fixture(scope="module")
def locustfile() -> Iterator[ModuleType]:
    """The locustfile module, imported once per test process, as locust would import it."""
    pytest.importorskip("locust", reason="locust is a dev dependency")
    with pytest.MonkeyPatch.context() as patch:
        if "locust" not in sys.modules:
            patch.setenv("LOCUST_SKIP_MONKEY_PATCH", "1")
        patch.syspath_prepend(str(LOADTESTS))
        module = sys.modules.get("locustfile") or importlib.import_module("locustfile")
        assert Path(module.__file__ or "").parent == LOADTESTS
        yield module


@pytest.fixture
def scenarios(locustfile: ModuleType) -> dict[str, ModuleType]:
    """The scenario modules the locustfile loaded."""
    return {name: sys.modules[f"scenarios.{name}"] for name in ("booking", "bounds", "queue_surge")}


def _environment(locustfile: ModuleType, host: str, args: list[str]) -> Any:
    from locust.argument_parser import get_parser
    from locust.env import Environment

    parser = get_parser(default_config_files=[])  # fires init_command_line_parser
    options = parser.parse_args(["-f", str(LOADTESTS / "locustfile.py"), "--host", host, *args])
    return Environment(user_classes=[locustfile.SurgeFan], host=host, parsed_options=options)


def test_surge_fan_is_a_locust_user_with_its_cycle_task(locustfile: ModuleType) -> None:
    """The locustfile defines SurgeFan, a FastHttpUser aimed at loopback with one cycle task."""
    from locust import FastHttpUser

    fan = locustfile.SurgeFan
    assert issubclass(fan, FastHttpUser)
    assert fan.tasks == [fan.queue_then_book]
    assert fan.wait_time is not None
    assert fan.host.startswith("http://127.0.0.1:")


def test_scenario_options_parse_from_the_command_line(locustfile: ModuleType) -> None:
    """--show-id, --max-cycles and --checkout-share reach the scenario; the share is clamped."""
    env = _environment(locustfile, "http://127.0.0.1:8000",
                       ["--show-id", "s-1", "--max-cycles", "3", "--checkout-share", "1.5"])
    options = locustfile.RunOptions.of(env)
    assert options.show_id == "s-1"
    assert options.max_cycles == 3
    assert options.checkout_share == 1.0
    assert options.hard_stop_seconds == 900.0


def test_a_fan_aimed_off_this_machine_stops_before_any_request(locustfile: ModuleType) -> None:
    """A non-loopback host makes every fan stop in on_start, before it sends anything."""
    from locust.exception import StopUser

    env = _environment(locustfile, "http://example.invalid:8000", ["--show-id", "s-1"])
    fan = locustfile.SurgeFan(env)
    with pytest.raises(StopUser):
        fan.on_start()


def test_a_fan_stops_after_its_cycles_or_without_a_show(locustfile: ModuleType) -> None:
    """A fan whose cycles are used up, or that has no show id, stops without a request."""
    from locust.exception import StopUser

    env = _environment(locustfile, "http://127.0.0.1:8000", ["--show-id", "s-1"])
    fan = locustfile.SurgeFan(env)
    fan.on_start()
    fan.cycles = 1
    with pytest.raises(StopUser):
        fan.queue_then_book()
    idle = locustfile.SurgeFan(_environment(locustfile, "http://127.0.0.1:8000", []))
    idle.on_start()
    with pytest.raises(StopUser):
        idle.queue_then_book()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8000", True), ("http://127.9.8.7", True), ("http://localhost:1", True),
        ("https://[::1]:8443", True), ("http://10.0.0.1:8000", False),
        ("http://192.168.1.10", False), ("http://0.0.0.0:8000", False),
        ("https://example.com", False), ("ftp://127.0.0.1", False), ("", False), (None, False),
    ],
)
def test_only_loopback_hosts_are_load_targets(
    scenarios: dict[str, ModuleType], url: str | None, allowed: bool
) -> None:
    """Load may only go to 127.0.0.0/8, localhost or [::1], over http(s)."""
    assert scenarios["bounds"].is_loopback_url(url) is allowed


def test_seat_picks_are_one_to_four_distinct_available_seats(
    scenarios: dict[str, ModuleType],
) -> None:
    """Each pick is 1-4 distinct seats out of the available ones, fewer only when fewer are left."""
    booking = scenarios["booking"]
    seat_map = {"seats": [
        {"id": f"A{n}", "status": "AVAILABLE" if n % 3 else "BOOKED"} for n in range(1, 31)
    ]}
    available = booking.available_seat_ids(seat_map)
    assert len(available) == 20
    rng = random.Random(7)
    sizes = set()
    for _ in range(200):
        picked = booking.pick_seats(available, rng)
        assert 1 <= len(picked) <= 4
        assert len(set(picked)) == len(picked)
        assert set(picked) <= set(available)
        sizes.add(len(picked))
    assert sizes == {1, 2, 3, 4}
    assert booking.pick_seats(["B1", "B2"], random.Random(1), low=4, high=4) in (
        ["B1", "B2"], ["B2", "B1"]
    )
    assert booking.pick_seats([], rng) == []


def test_a_conflict_offers_its_alternative_seats(scenarios: dict[str, ModuleType]) -> None:
    """After a 409, the fan tries the answer's alternativeSeats, as ids or seat objects."""
    booking = scenarios["booking"]
    conflict = {"error": "SEAT_UNAVAILABLE", "unavailableSeats": ["A1"],
                "alternativeSeats": ["A3", {"id": "A4"}, "A3", 5]}
    assert booking.alternative_ids(conflict, 4) == ["A3", "A4"]
    assert booking.alternative_ids(conflict, 1) == ["A3"]
    assert booking.alternative_ids({"error": "SEAT_UNAVAILABLE"}, 2) == []


def test_status_is_polled_every_30_seconds_and_every_poll_near_the_front(
    scenarios: dict[str, ModuleType],
) -> None:
    """Far back, status waits 30 s; within a few tickets or seconds of admission, every poll."""
    queue = scenarios["queue_surge"]
    assert not queue.near_front(1000, 100, 60.0, None)
    assert queue.near_front(104, 100, 60.0, None)
    assert queue.near_front(1000, 760, 3000.0, None)  # 50 admissions a second: 250 in 5 s
    assert queue.near_front(1000, 100, 60.0, 3.0)
    assert not queue.near_front(None, None, None, None)
    assert not queue.status_due(100.0, 80.0, is_near_front=False)
    assert queue.status_due(110.0, 80.0, is_near_front=False)
    assert queue.status_due(81.0, 80.0, is_near_front=True)


def test_setup_show_names_rows_and_refuses_remote_hosts(locustfile: ModuleType) -> None:
    """setup_show names rows A..Z, AA..; it refuses a non-loopback base URL before connecting."""
    setup_show = importlib.import_module("setup_show")
    names = setup_show.row_names(28)
    assert names[:3] == ["A", "B", "C"]
    assert names[25:] == ["Z", "AA", "AB"]
    with pytest.raises(ValueError, match="loopback"):
        setup_show.create_show("http://203.0.113.5:8000", "x" * 20)


def _user_classes(module: ModuleType) -> set[str]:
    """The User classes locust would run from a locustfile module (as locust finds them)."""
    from locust import User

    return {name for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, User) and value.__module__ != "locust"
            and not getattr(value, "abstract", False)}


def test_booking_scenario_runs_only_hot_show_buyers(locustfile: ModuleType) -> None:
    """booking_locustfile.py's users are HotShowBuyers (FastHttpUser) with a fast room of their
    own; the surge's fans are not among them."""
    from locust import FastHttpUser

    module = importlib.import_module("booking_locustfile")
    assert _user_classes(module) == {"HotShowBuyer"}
    buyer = module.HotShowBuyer
    assert issubclass(buyer, FastHttpUser)
    assert buyer.room_plan["release_rate_per_minute"] >= 6_000


def test_operator_scenario_runs_fans_and_one_operator(locustfile: ModuleType) -> None:
    """operator_locustfile.py runs the surge's fans and exactly one RoomOperator."""
    module = importlib.import_module("operator_locustfile")
    assert _user_classes(module) == {"SurgeFan", "RoomOperator"}
    assert module.RoomOperator.fixed_count == 1


def test_the_verdict_options_reach_the_scenario(locustfile: ModuleType) -> None:
    """--database-url, --redis-url and --verdict-json (the verdict at the end) parse."""
    env = _environment(locustfile, "http://127.0.0.1:8000",
                       ["--show-id", "s-1", "--database-url", "postgresql://db/x",
                        "--redis-url", "redis://r/1", "--verdict-json", "verdict.json"])
    options = locustfile.RunOptions.of(env)
    assert (options.database_url, options.redis_url, options.verdict_json) == (
        "postgresql://db/x", "redis://r/1", "verdict.json")
