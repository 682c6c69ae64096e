"""Server-made SVG charts of the last minutes of a show (pure: numbers in, markup out).

No chart library and no canvas: each chart is a few ``<path>``/``<rect>`` elements computed
here, styled by classes in ``static/css/operator.css`` (the pages' CSP forbids inline styles),
with a ``<title>`` and ``<desc>`` that tell a screen reader what the picture shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 420, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 28


@dataclass(frozen=True, slots=True)
class ChartText:
    """The words of one chart, in the page's language."""

    title: str
    description: str
    x_start: str  # "30 min ago"
    x_middle: str
    x_end: str  # "now"


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 x 10^n at or above ``value`` (at least 1): a round axis top."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span / 2)


def _y(value: float, top: int) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def line_path(values: Sequence[float], top: int) -> str:
    """An SVG path through every point (``M x y L x y …``)."""
    return " ".join(
        f"{'M' if i == 0 else 'L'}{_x(i, len(values)):.1f} {_y(v, top):.1f}"
        for i, v in enumerate(values)
    )


def area_path(values: Sequence[float], top: int) -> str:
    """The line's path closed down to the axis, for a filled area."""
    if not values:
        return ""
    base = _y(0, top)
    return (f"{line_path(values, top)} L{_x(len(values) - 1, len(values)):.1f} {base:.1f}"
            f" L{_x(0, len(values)):.1f} {base:.1f} Z")


def _bars(values: Sequence[float], top: int) -> list[str]:
    count = len(values)
    width = max(2.0, (WIDTH - LEFT - RIGHT) / max(count, 1) * 0.7)
    bars = []
    for index, value in enumerate(values):
        if value <= 0:
            continue
        y = _y(value, top)
        bars.append(f'<rect class="chart__bar" x="{_x(index, count) - width / 2:.1f}"'
                    f' y="{y:.1f}" width="{width:.1f}" height="{_y(0, top) - y:.1f}"/>')
    return bars


def _frame(kind: str, top: int, text: ChartText, number: str) -> list[str]:
    parts = [f'<title id="chart-{kind}-title">{escape(text.title)}</title>',
             f'<desc id="chart-{kind}-desc">{escape(text.description)}</desc>']
    for fraction in (0, 0.5, 1):
        value = top * fraction
        y = _y(value, top)
        parts.append(f'<line class="chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}"'
                     f' y1="{y:.1f}" y2="{y:.1f}"/>')
        label = number if fraction == 1 else (f"{value:g}" if fraction else "0")
        parts.append(f'<text class="chart__label" x="{LEFT - 6}" y="{y + 4:.1f}"'
                     f' text-anchor="end">{escape(label)}</text>')
    baseline = HEIGHT - 8
    parts += [
        f'<text class="chart__label" x="{LEFT}" y="{baseline}">{escape(text.x_start)}</text>',
        f'<text class="chart__label" x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{baseline}"'
        f' text-anchor="middle">{escape(text.x_middle)}</text>',
        f'<text class="chart__label" x="{WIDTH - RIGHT}" y="{baseline}"'
        f' text-anchor="end">{escape(text.x_end)}</text>',
    ]
    return parts


def _svg(kind: str, parts: list[str]) -> Markup:
    return Markup(  # noqa: S704 - every text above is escaped; numbers are formatted here
        f'<svg data-chart="{kind}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-labelledby="chart-{kind}-title chart-{kind}-desc">{"".join(parts)}</svg>'
    )


def area_chart(kind: str, values: Sequence[int], text: ChartText) -> Markup:
    """A level over time (the queue's length): a filled area under a line."""
    top = nice_ceiling(max(values, default=0))
    parts = _frame(kind, top, text, f"{top:g}")
    if values:
        parts.append(f'<path class="chart__area" d="{area_path(values, top)}"/>')
        parts.append(f'<path class="chart__line" d="{line_path(values, top)}"/>')
    return _svg(kind, parts)


def bar_chart(kind: str, values: Sequence[int], text: ChartText,
              target: Sequence[int] | None = None) -> Markup:
    """Counts per minute as bars, with an optional target (the set rate) as a dashed line."""
    top = nice_ceiling(max([*values, *(target or [])], default=0))
    parts = _frame(kind, top, text, f"{top:g}")
    parts += _bars(values, top)
    if target:
        parts.append(f'<path class="chart__target" data-series="rate" data-last="{target[-1]}"'
                     f' d="{line_path(target, top)}"/>')
    return _svg(kind, parts)
