"""/metrics after a real run of the app: names, labels, values, the invariant check, and the
dashboard and alert rules in helm/admitone that read them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from litestar import Litestar, get
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from admitone.gateway.middleware import request_id_middleware
from admitone.monitoring import MonitoringService
from admitone.runtime import Services
from tests.conftest import MakeShow, ShowFixture, bearer, expire_lock
from tests.integration.payment_support import (
    WEBHOOK,
    lock_and_checkout,
    send_webhook,
    signed,
)
from tests.integration.queue_support import join, put_room, tick

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "helm" / "admitone" / "dashboards" / "admitone.json"
RULES = ROOT / "helm" / "admitone" / "alerts" / "admitone.rules.yaml"
RULE_TESTS = ROOT / "helm" / "admitone" / "alerts" / "admitone.rules.test.yaml"

# Every admitone metric family /metrics exposes, with its labels. Dashboards and alerts are
# built on these names: a change here is a change to helm/admitone/dashboards and alerts too.
EXPECTED_METRICS: dict[str, set[str]] = {
    "admitone_http_requests": {"method", "route", "status"},
    "admitone_http_request_duration_seconds": {"method", "route"},
    "admitone_queue_joins": {"show", "status"},
    "admitone_seat_lock_attempts": {"show", "outcome"},
    "admitone_seats_locked": {"show"},
    "admitone_seats_expired": {"show"},
    "admitone_payments": {"show", "outcome"},
    "admitone_webhook_signature_failures": {"provider"},
    "admitone_postgres_pool_connections": {"state"},
    "admitone_postgres_pool_max_connections": set(),
    "admitone_redis_ping_duration_seconds": set(),
    "admitone_redis_ping_failures": set(),
    "admitone_admission_leader": set(),
    "admitone_admission_round_duration_seconds": set(),
    "admitone_queue_waiting": {"show"},
    "admitone_queue_active": {"show"},
    "admitone_queue_admitted": {"show"},
    "admitone_queue_abandoned": {"show"},
    "admitone_queue_phase": {"show", "phase"},
    "admitone_queue_release_rate_per_minute": {"show"},
    "admitone_queue_max_active": {"show"},
    "admitone_queue_observed_admissions_per_minute": {"show"},
    "admitone_queue_eta_error_ratio": {"show", "window", "quantile"},
    "admitone_queue_eta_predictions": {"show", "window"},
    "admitone_queue_eta_error": {"show"},
    "admitone_bookings": {"show", "state"},
    "admitone_seats": {"show", "state"},
    "admitone_invariant_violations": {"invariant"},
    "admitone_invariant_check_timestamp_seconds": set(),
    "admitone_monitoring_labelled_shows": set(),
    "admitone_monitoring_source_up": {"source"},
}


@dataclass(frozen=True)
class Scrape:
    """One /metrics answer, parsed."""

    text: str
    families: dict[str, Any]

    def labels_of(self, family: str) -> set[str]:
        names: set[str] = set()
        for sample in self.families[family].samples:
            names |= set(sample.labels) - {"le"}
        return names

    def value(self, sample_name: str, default: float | None = None, **labels: str) -> float:
        """The sample's value; ``default`` when it is absent (else KeyError)."""
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == sample_name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(sample.value)
        if default is None:
            raise KeyError(f"{sample_name}{labels}")
        return default

    def sample_names(self) -> set[str]:
        return {s.name for f in self.families.values() for s in f.samples} | set(self.families)


def monitoring_of(services: Services) -> MonitoringService:
    assert services.monitoring is not None
    return services.monitoring


async def scrape(client: httpx.AsyncClient, services: Services) -> Scrape:
    monitoring_of(services).invalidate()
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    return Scrape(response.text, families)


async def exercise(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> ShowFixture:
    """A short on-sale of one show through the API: two joins and their admission, a lock and
    a paid booking, a lock conflict, a forged webhook, a lock left to expire."""
    show = await make_show(rows=1, seats_per_row=4)
    await put_room(client, show.id)
    await monitoring_of(services).refresh_labels()  # the show is on sale from now on
    for _ in range(2):
        assert (await join(client, show.id)).status_code == 200
    admitted = 0
    for _ in range(6):  # the first tick fills the room's bucket; a loaded Redis may skip one
        with contextlib.suppress(KeyError):
            admitted += len((await tick(services, show.id)).admitted)
        if admitted == 2:
            break
        await asyncio.sleep(1.05)
    assert admitted == 2
    checkout = await lock_and_checkout(client, show, access_token, ["A1", "A2"])
    assert (await send_webhook(client, checkout.payment_id, "SUCCESS",
                              amount=checkout.amount, currency="INR")).status_code == 200
    taken = await client.post("/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A1"]},
                              headers=bearer(access_token(show.id)))
    assert taken.status_code == 409
    body, headers = signed({"paymentId": checkout.payment_id, "status": "FAILED"},
                           secret="not-the-secret-0123456789")
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 401
    left = await client.post("/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A3"]},
                             headers=bearer(access_token(show.id)))
    assert left.status_code == 200
    await expire_lock(services, left.json()["lockId"])
    assert await services.seats.sweep_expired() >= 1
    return show


async def test_metric_names_and_labels_match_the_list(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """After an on-sale, /metrics exposes exactly the listed admitone families with exactly
    the listed labels."""
    await exercise(client, services, make_show, access_token)
    found = await scrape(client, services)
    exposed = {name for name in found.families if name.startswith("admitone_")}
    assert exposed == set(EXPECTED_METRICS), (exposed ^ set(EXPECTED_METRICS))
    for name, labels in EXPECTED_METRICS.items():
        assert found.labels_of(name) == labels, name


async def test_metrics_follow_an_on_sale_of_a_labelled_show(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Each figure of a show on sale carries its id and counts what happened to it."""
    before = (await scrape(client, services)).value(
        "admitone_webhook_signature_failures_total", 0, provider="sandbox"
    )
    show = await exercise(client, services, make_show, access_token)
    found = await scrape(client, services)
    s = show.id
    assert found.value("admitone_queue_joins_total", show=s, status="waiting") == 2
    assert found.value("admitone_queue_admitted_total", show=s) == 2
    assert found.value("admitone_queue_waiting", show=s) == 0
    assert found.value("admitone_queue_active", show=s) == 2
    assert found.value("admitone_queue_phase", show=s, phase="OPEN") == 1
    assert found.value("admitone_queue_phase", show=s, phase="PAUSED") == 0
    assert found.value("admitone_queue_release_rate_per_minute", show=s) == 600
    assert found.value("admitone_queue_max_active", show=s) == 100
    assert found.value("admitone_seat_lock_attempts_total", show=s, outcome="locked") == 2
    assert found.value("admitone_seat_lock_attempts_total", show=s, outcome="unavailable") == 1
    assert found.value("admitone_seats_locked_total", show=s) == 3
    assert found.value("admitone_seats_expired_total", show=s) == 1
    assert found.value("admitone_payments_total", show=s, outcome="confirmed") == 1
    assert found.value("admitone_bookings", show=s, state="CONFIRMED") == 1
    assert found.value("admitone_bookings", show=s, state="FAILED") == 0
    assert found.value("admitone_seats", show=s, state="BOOKED") == 2
    assert found.value("admitone_seats", show=s, state="AVAILABLE") == 2
    assert found.value(
        "admitone_webhook_signature_failures_total", provider="sandbox"
    ) == before + 1
    assert found.value("admitone_monitoring_source_up", source="postgres") == 1
    assert found.value("admitone_monitoring_source_up", source="redis") == 1
    assert found.value("admitone_http_request_duration_seconds_count", method="POST",
                       route="/api/v1/bookings/lock") >= 3


async def test_a_show_not_on_sale_is_counted_as_other(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A show with no room and no held seats never becomes a label value: its lock attempts
    count under show="other"."""
    show = await make_show(rows=1, seats_per_row=2)
    await monitoring_of(services).refresh_labels()
    before = await scrape(client, services)
    other_before = before.value("admitone_seat_lock_attempts_total", 0, show="other",
                                outcome="unknown")
    answer = await client.post("/api/v1/bookings/lock",
                               json={"showId": show.id, "seatIds": ["Z9"]},
                               headers=bearer(access_token(show.id)))
    assert answer.status_code != 200
    after = await scrape(client, services)
    assert show.id not in after.text
    assert after.value("admitone_seat_lock_attempts_total", show="other",
                       outcome="unknown") == other_before + 1


async def test_invariant_check_counts_each_kind_of_violation(
    services: Services, make_show: MakeShow
) -> None:
    """Every invariant the periodic check watches is counted when broken (in a transaction
    that is rolled back, with the database's own guards stepped around)."""
    show = await make_show(rows=1, seats_per_row=4)
    sid = uuid.UUID(show.id)
    repository = monitoring_of(services).repository
    async with services.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            base = await repository.invariant_violations(60, conn)

            async def lock(expired: bool = False) -> uuid.UUID:
                lock_id = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO seat_locks (id, show_id, visitor_id, seat_ids, status, expires_at)"
                    " VALUES ($1, $2, 'v-test', ARRAY['A1'], $3, now() + $4 * interval '1 hour')",
                    lock_id, sid, "ACTIVE" if expired else "CONVERTED", -1 if expired else 1,
                )
                return lock_id

            async def booking(status: str, seat: str | None) -> uuid.UUID:
                booking_id = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO bookings (id, reference, show_id, visitor_id, lock_id, email,"
                    " amount, currency, status) VALUES ($1, $2, $3, 'v-test', $4,"
                    " 'fan@example.com', 100, 'INR', $5)",
                    booking_id, uuid.uuid4().hex[:12], sid, await lock(), status,
                )
                if seat:
                    await conn.execute(
                        "INSERT INTO booking_seats (booking_id, show_id, seat_id, price)"
                        " VALUES ($1, $2, $3, 100)", booking_id, sid, seat,
                    )
                return booking_id

            async def payment(booking_id: uuid.UUID, status: str) -> None:
                await conn.execute(
                    "INSERT INTO payments (booking_id, amount, currency, method, status,"
                    " expires_at, completed_at) VALUES ($1, 100, 'INR', 'CARD', $2, now(),"
                    " now() - interval '1 hour')", booking_id, status,
                )

            await lock(expired=True)
            await booking("CONFIRMED", "A2")  # no payment at all
            await payment(await booking("CONFIRMED", "A2"), "SUCCESS")  # A2 twice
            await payment(await booking("FAILED", None), "SUCCESS")  # paid, nothing given
            found = await repository.invariant_violations(60, conn)
        finally:
            await transaction.rollback()
    delta = {name: found[name] - base[name] for name in found}
    assert delta == {"double_bookings": 1, "confirmed_without_payment": 1,
                     "captured_without_outcome": 1, "locks_past_expiry": 1}


async def test_invariants_are_exported_and_zero_after_an_honest_sale(
    client: httpx.AsyncClient, services: Services
) -> None:
    """/metrics names every invariant, with the time of the last check."""
    found = await scrape(client, services)
    for name in ("double_bookings", "confirmed_without_payment", "captured_without_outcome",
                 "locks_past_expiry"):
        assert found.value("admitone_invariant_violations", invariant=name) >= 0
    assert found.value("admitone_invariant_violations", invariant="double_bookings") == 0
    assert found.value("admitone_invariant_check_timestamp_seconds") > 0


# The dashboard and the alert rules ------------------------------------------------------------

_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes",
    "clamp", "clamp_max", "clamp_min", "count", "count_over_time", "delta", "deriv", "floor",
    "group", "histogram_quantile", "idelta", "increase", "irate", "label_replace",
    "last_over_time", "max", "max_over_time", "min", "min_over_time", "quantile", "rate",
    "resets", "round", "scalar", "sort", "sort_desc", "stddev", "sum", "sum_over_time", "time",
    "timestamp", "topk", "vector",
}
_KEYWORDS = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left",
             "group_right", "offset", "inf", "nan"}


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression reads (label matchers, groupings, strings, durations
    and Grafana's $variables removed; what remains are functions, keywords and metric names)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expression)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\$\w+", "", text)
    names = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text))
    return {n for n in names if n not in _FUNCTIONS and n not in _KEYWORDS}


def dashboard_expressions() -> list[str]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                found.append(node["expr"])
            query = node.get("query")
            if isinstance(query, str) and query.startswith("label_values("):
                found.append(query.removeprefix("label_values(").split(",")[0])  # its metric
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(board)
    return found


def rule_expressions() -> list[str]:
    yaml = pytest.importorskip("yaml")
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_metric_names_reads_promql() -> None:
    """The expression parser of these tests finds metric names and nothing else."""
    expression = (
        'sum by (show) (rate(admitone_payments_total{outcome="confirmed"}[5m])) / '
        "clamp_min(sum without (outcome) (rate(admitone_payments_total[5m])), 1) > 0.95 "
        "and on (show) admitone_queue_waiting{show=~\"$show\"} > 0"
    )
    assert metric_names(expression) == {"admitone_payments_total", "admitone_queue_waiting"}


async def test_dashboard_and_alerts_read_only_metrics_that_exist(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Every query of the Grafana dashboard and every alert rule names metrics /metrics
    exposes after an on-sale, so neither can silently read nothing."""
    await exercise(client, services, make_show, access_token)
    exposed = (await scrape(client, services)).sample_names()
    expressions = dashboard_expressions() + rule_expressions()
    assert len(expressions) >= 20
    for expression in expressions:
        names = metric_names(expression)
        assert names, expression
        assert names <= exposed, (names - exposed, expression)


def test_alert_rules_cover_the_critical_signals() -> None:
    """The rules include an alert for each critical signal the README lists."""
    yaml = pytest.importorskip("yaml")
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {"AdmitoneLockSuccessLow", "AdmitoneDoubleBooking", "AdmitonePaymentSuccessLow",
            "AdmitoneLockLatencyHigh", "AdmitoneQueueStalled"} <= names


def test_promtool_accepts_the_rules_and_their_tests() -> None:
    """`promtool check rules` accepts the alert rules and `promtool test rules` passes the
    alerts' own unit tests (stalled queue, double booking, lock success)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus; .ci/run installs it)")
    checked = subprocess.run(  # noqa: S603 - promtool from PATH on the repository's own files
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(  # noqa: S603 - as above
        [promtool, "test", "rules", RULE_TESTS.name], capture_output=True, text=True,
        check=False, cwd=RULE_TESTS.parent,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


# Log lines -------------------------------------------------------------------------------------

async def test_a_route_with_a_show_names_it_on_every_log_line() -> None:
    """The request-id middleware binds the route's show id once, so a log line of the request
    carries both without the code that logs naming either."""
    @get("/things/{show_id:str}", sync_to_thread=False)
    def thing(show_id: str) -> str:
        structlog.get_logger().warning("thing_read")  # the suite's level is warning
        return show_id

    app = Litestar([thing], middleware=[request_id_middleware])
    transport = httpx.ASGITransport(app=app)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/things/s-42", headers={"X-Request-ID": "r-42"})
    assert response.status_code == 200
    (line,) = [entry for entry in logs if entry["event"] == "thing_read"]
    assert (line["request_id"], line["show_id"]) == ("r-42", "s-42")


async def test_a_booking_call_names_its_visitor_and_show_on_its_log_lines(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Verifying the access token binds its visitor and show: the lock conflict's log line
    names them with the request id."""
    show = await make_show(rows=1, seats_per_row=2)
    lock = {"showId": show.id, "seatIds": ["A1"]}
    first = await client.post("/api/v1/bookings/lock", json=lock,
                              headers=bearer(access_token(show.id)))
    assert first.status_code == 200
    previous = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            second = await client.post(
                "/api/v1/bookings/lock", json=lock,
                headers={**bearer(access_token(show.id, "v-second")), "X-Request-ID": "r-7"},
            )
    finally:
        structlog.configure(wrapper_class=previous)
    assert second.status_code == 409
    (line,) = [entry for entry in logs if entry["event"] == "seats_unavailable"]
    assert (line["request_id"], line["visitor_id"], line["show_id"]) == ("r-7", "v-second",
                                                                          show.id)
