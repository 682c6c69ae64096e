"""The operator console's pages as plain data (no I/O): live figures and charts, the funnel,
audit rows, the operator seat map, and times in the operator's time zone."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup

from admitone.admission.models import RoomStats
from admitone.booking_core.backoffice import AuditEntry, HeldSeat, ShowSales
from admitone.booking_core.live_stats import FUNNEL_STEPS, MinuteFigures, quantile_ms
from admitone.gateway import i18n
from admitone.gateway.operator.charts import ChartText, area_chart, bar_chart

LATENCY_WINDOW_MINUTES = 5
LATENCIES = ("join", "lock", "checkout")


# Times in the operator's zone ----------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime | None, timezone: str, *, seconds: bool = False) -> str:
    """``2026-12-02 19:30 IST`` in the operator's zone (empty for no time)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone(timezone))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def local_input(moment: datetime | None, timezone: str) -> str:
    """The value of an ``<input type="datetime-local">`` in the operator's zone."""
    return "" if moment is None else moment.astimezone(zone(timezone)).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str | None, timezone: str) -> datetime | None:
    """A ``datetime-local`` value read in the operator's zone, as an aware UTC time; None for
    an empty field. Raises ValueError for anything else."""
    if not text or not text.strip():
        return None
    naive = datetime.fromisoformat(text.strip())
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=zone(timezone)).astimezone(UTC)


# The live view ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveView:
    """Every figure of the live view (``data-metric`` name → the number as text), the
    latencies, and the three charts."""

    metrics: dict[str, str]
    latency: dict[str, dict[str, str]]  # join|lock|checkout → p50|p99 → "12" or "–"
    charts: dict[str, Markup]
    phase: str
    phase_label: str
    paused: bool
    has_room: bool
    degraded: bool = False  # Redis did not answer: crowd figures and charts are not live

    def to_json(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "latency": self.latency, "phase": self.phase,
                "phaseLabel": self.phase_label, "paused": self.paused,
                "degraded": self.degraded,
                "charts": {k: str(v) for k, v in self.charts.items()}}


def _last_minute(minutes: Sequence[MinuteFigures], name: str, now: float) -> int:
    """A counter over the last 60 seconds: this minute so far plus the part of the previous
    minute still inside the window."""
    if not minutes:
        return 0
    elapsed = (now % 60) / 60
    current = minutes[-1].count(name)
    previous = minutes[-2].count(name) if len(minutes) > 1 else 0
    return round(current + previous * (1 - elapsed))


def _gauge_series(minutes: Sequence[MinuteFigures], name: str) -> list[int]:
    """A gauge per minute, carrying the last sample over minutes that have none."""
    series: list[int] = []
    last = 0
    for minute in minutes:
        last = minute.gauges.get(name, last)
        series.append(last)
    return series


def _latency(minutes: Sequence[MinuteFigures], name: str) -> dict[str, str]:
    merged: dict[int, int] = {}
    for minute in minutes[-LATENCY_WINDOW_MINUTES:]:
        for bucket, count in minute.latency.get(name, {}).items():
            merged[bucket] = merged.get(bucket, 0) + count
    found = {q: quantile_ms(merged, level) for q, level in (("p50", 0.5), ("p99", 0.99))}
    return {q: "–" if value is None else f"{value:g} ms" for q, value in found.items()}


def _eta_percent(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _eta_texts(room: RoomStats | None) -> dict[str, str]:
    """How far the waits told at join were off (the room's stats, admission/eta.py): median
    and p90 in per cent since the room began, p90 over the last ten minutes, fans measured."""
    at_join = room.eta_error_at_join if room else None
    recent = room.eta_error_last_10_minutes if room else None
    return {
        "etaErrorMedian": _eta_percent(at_join.median_percent if at_join else None),
        "etaErrorP90": _eta_percent(at_join.p90_percent if at_join else None),
        "etaErrorP90Last10Minutes": _eta_percent(recent.p90_percent if recent else None),
        "etaMeasured": str(at_join.fans if at_join else 0),
    }


def _chart_text(loc: i18n.Locale, kind: str, now_value: int, peak: int) -> ChartText:
    return ChartText(
        title=loc.t(f"op.chart.{kind}.title"),
        description=loc.t(f"op.chart.{kind}.desc", now=loc.number(now_value),
                          peak=loc.number(peak)),
        x_start=loc.t("op.chart.ago", minutes=30), x_middle=loc.t("op.chart.ago", minutes=15),
        x_end=loc.t("op.chart.now"),
    )


def live_view(loc: i18n.Locale, stats: RoomStats | None, sales: ShowSales,
              minutes: Sequence[MinuteFigures], now: float | None = None, *,
              degraded: bool = False) -> LiveView:
    moment = time.time() if now is None else now
    room = stats
    metrics = {
        "waiting": room.waiting if room else 0,
        "active": room.active if room else 0,
        "admittedLastMinute": _last_minute(minutes, "admitted", moment),
        "releaseRatePerMinute": room.release_rate_per_minute if room else 0,
        "maxActive": room.max_active if room else 0,
        "abandoned": room.abandoned_total if room else 0,
        "admittedTotal": room.admitted_total if room else 0,
        "seatsAvailable": sales.seats_available,
        "seatsLocked": sales.seats_locked,
        "seatsBooked": sales.seats_booked,
        "bookings": sales.bookings,
        "pendingBookings": sales.pending,
        "lockConflictsPerMinute": _last_minute(minutes, "lock_conflicts", moment),
        "locksPerMinute": _last_minute(minutes, "locks", moment),
        "paymentFailures": sum(m.count("payments_failed") for m in minutes),
        "paymentsSucceeded": sum(m.count("payments_ok") for m in minutes),
    }
    texts: dict[str, str] = {name: str(value) for name, value in metrics.items()}
    texts["revenue"] = f"{sales.revenue.quantize(Decimal('0.01'))}"
    texts.update(_eta_texts(room))
    queue = _gauge_series(minutes, "waiting")
    if room is not None and queue:
        queue[-1] = room.waiting
    admitted = [m.count("admitted") for m in minutes]
    rate = _gauge_series(minutes, "rate")
    if room is not None and rate:
        rate[-1] = room.release_rate_per_minute
    sold = [m.count("sales") for m in minutes]
    charts = {
        "queue": area_chart("queue", queue, _chart_text(
            loc, "queue", queue[-1] if queue else 0, max(queue, default=0))),
        "admissions": bar_chart("admissions", admitted, _chart_text(
            loc, "admissions", admitted[-1] if admitted else 0, max(admitted, default=0)),
            target=rate),
        "sales": bar_chart("sales", sold, _chart_text(
            loc, "sales", sold[-1] if sold else 0, max(sold, default=0))),
    }
    phase = room.status if room else "NONE"
    return LiveView(
        metrics=texts, latency={name: _latency(minutes, name) for name in LATENCIES},
        charts=charts, phase=phase, phase_label=loc.t(f"op.phase.{phase}"),
        paused=bool(room and room.paused), has_room=room is not None, degraded=degraded,
    )


# Rate steps -------------------------------------------------------------------------------

RATE_STEPS = ("-10%", "+10%", "x2", "/2")


def stepped_rate(rate: int, step: str) -> int:
    """The release rate after a quick step; never below 1."""
    factor = {"-10%": 0.9, "+10%": 1.1, "x2": 2.0, "/2": 0.5}.get(step)
    if factor is None:
        raise ValueError(f"unknown step {step!r}")
    stepped = round(rate * factor)
    if stepped == rate and step in {"+10%", "x2"}:
        stepped += 1  # +10 % of a small rate still moves it
    return max(1, stepped)


# The funnel -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunnelStep:
    step: str
    label: str
    visitors: int
    conversion: str  # from the previous step, "82.5" (percent) or "" for the first step
    abandoned: int  # visitors of the previous step who did not reach this one
    abandoned_share: str


def _percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` in percent; empty when there is no whole to take a part of."""
    return f"{100 * part / whole:.1f}" if whole else ""


def funnel_steps(loc: i18n.Locale, counts: dict[str, int]) -> list[FunnelStep]:
    steps: list[FunnelStep] = []
    previous: int | None = None
    for step in FUNNEL_STEPS:
        visitors = counts.get(step, 0)
        lost = max(0, previous - visitors) if previous is not None else 0
        steps.append(FunnelStep(
            step=step, label=loc.t(f"op.funnel.{step}"), visitors=visitors,
            conversion="" if previous is None else _percent(visitors, previous),
            abandoned=lost, abandoned_share="" if previous is None else _percent(lost, previous),
        ))
        previous = visitors
    return steps


def funnel_csv(steps: Sequence[FunnelStep]) -> str:
    lines = ["step,visitors,conversion_from_previous_percent,abandoned,abandoned_percent"]
    lines += [f"{s.step},{s.visitors},{s.conversion},{s.abandoned},{s.abandoned_share}"
              for s in steps]
    return "\r\n".join(lines) + "\r\n"


# The audit log ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: str
    actor: str
    show_id: str
    field: str
    old: str
    new: str


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _shown(value: object, timezone: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:  # noqa: PLR2004
        try:
            return local_time(datetime.fromisoformat(value), timezone)
        except ValueError:
            return value
    return str(value)


def audit_rows(entries: Sequence[AuditEntry], timezone: str) -> list[AuditRow]:
    """One row per changed field, newest first (as the entries come)."""
    rows: list[AuditRow] = []
    for entry in entries:
        at = local_time(entry.at, timezone, seconds=True)
        show = entry.entity_id.split("/")[0]

        def row(field: str, old: str, new: str, *, at: str = at, entry: AuditEntry = entry,
                show: str = show) -> AuditRow:
            return AuditRow(at=at, actor=entry.actor, show_id=show, field=field, old=old, new=new)

        data = entry.data
        if entry.action == "WAITING_ROOM_CHANGED":
            before = data.get("before", {})
            rows += [row(_camel(name), _shown(before.get(name), timezone), _shown(value, timezone))
                     for name, value in data.get("changes", {}).items()]
        elif entry.action == "WAITING_ROOM_SET":
            summary = ", ".join(f"{_camel(k)}={_shown(v, timezone)}" for k, v in data.items())
            rows.append(row("waitingRoom", "–", summary))
        elif entry.action == "LOCK_RELEASED":
            seats = ", ".join(data.get("seatIds", [])) or "–"
            rows.append(row(f"lock {seats}", f"LOCKED ({data.get('holder', '?')})", "RELEASED"))
        elif entry.action == "VISITOR_REVOKED":
            rows.append(row(f"visitor {entry.entity_id.split('/')[-1]}", "–", "REVOKED"))
        else:
            rows.append(row(entry.entity, "–", entry.action))
    return rows


# The operator seat map --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeatRow:
    """One row of the hall, its seats in order."""

    name: str
    seats: list[HeldSeat]


def seat_rows(seats: Sequence[HeldSeat]) -> list[SeatRow]:
    rows: dict[str, list[HeldSeat]] = {}
    for seat in seats:
        rows.setdefault(seat.row, []).append(seat)
    return [SeatRow(name, found) for name, found in rows.items()]


def held_locks(seats: Sequence[HeldSeat]) -> list[dict[str, Any]]:
    """The locks holding seats now (or past their time, not yet swept), one entry per lock."""
    locks: dict[str, dict[str, Any]] = {}
    for seat in seats:
        if seat.lock_id and seat.status in {"LOCKED", "EXPIRED"}:
            entry = locks.setdefault(seat.lock_id, {
                "lock_id": seat.lock_id, "holder": seat.holder, "since": seat.locked_since,
                "until": seat.locked_until, "status": seat.status, "seats": []})
            entry["seats"].append(seat.seat_id)
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(locks.values(), key=lambda lock: lock["since"] or oldest)
