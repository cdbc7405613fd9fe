"""Bar charts as inline SVG, drawn on the server: no JavaScript, nothing from the network.

`stacked_bars` draws one bar per label with its series stacked (frame under activity, say):
positive parts stack up from zero, negative parts down from it. The value axis has "nice"
steps (1, 2, 2.5 or 5 × 10^n) labelled in Danish whole kroner (1.234.567 kr.); every bar part
carries a <title> with its exact amount, so a pointer shows it and a screen reader reads it.
Labels too wide for their bar (facility codes, say) are slanted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Sequence

from markupsafe import Markup, escape

from service.ui.formatting import kroner, whole_kroner


@dataclass(frozen=True)
class Series:
    """One stacked part of every bar: its name (for the legend), a CSS class, its values."""

    name: str
    css_class: str
    values: tuple[Decimal, ...]


@dataclass(frozen=True)
class Box:
    width: int = 1000
    height: int = 320
    top: int = 34
    bottom: int = 28
    right: int = 12
    char_width: float = 6.6
    """Approximate width of a 12 px digit, to fit the axis labels."""


def nice_step(span: Decimal, ticks: int = 5) -> Decimal:
    """The smallest step of 1, 2, 2.5 or 5 × 10^n that covers `span` in at most `ticks` steps."""
    if span <= 0:
        return Decimal(1)
    raw = span / ticks
    exponent = raw.adjusted()
    for base in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        step = base.scaleb(exponent)
        if step >= raw:
            return step
    return Decimal(10).scaleb(exponent)  # pragma: no cover - the loop ends at 10 × 10^n >= raw


def _stacks(series: Sequence[Series], count: int) -> list[tuple[Decimal, Decimal]]:
    """(sum of the positive parts, sum of the negative parts) of every bar."""
    return [(sum((s.values[i] for s in series if s.values[i] > 0), Decimal(0)),
             sum((s.values[i] for s in series if s.values[i] < 0), Decimal(0))) for i in range(count)]


def stacked_bars(labels: Sequence[str], series: Sequence[Series], *, title: str, descriptions: Sequence[str] = (),
                 highlight: int | None = None, box: Box = Box()) -> Markup:
    """An SVG stacked bar chart; `descriptions` name each bar in full (tooltips), `highlight`
    marks one bar (its index) as the selected one."""
    count = len(labels)
    if any(len(s.values) != count for s in series):
        raise ValueError("every series needs one value per label")
    stacks = _stacks(series, count)
    high = max((up for up, _ in stacks), default=Decimal(0))
    low = min((down for _, down in stacks), default=Decimal(0))
    step = nice_step(high - low)
    top_value = (high / step).to_integral_value(ROUND_CEILING) * step
    bottom_value = (low / step).to_integral_value(ROUND_FLOOR) * step
    if top_value == bottom_value:
        top_value = bottom_value + step
    ticks = [bottom_value + step * i for i in range(int((top_value - bottom_value) / step) + 1)]
    left = int(max(len(whole_kroner(t)) for t in ticks) * box.char_width) + 14
    plot_w = box.width - left - box.right
    plot_h = box.height - box.top - box.bottom

    def y(value: Decimal) -> float:
        return box.top + float((top_value - value) / (top_value - bottom_value)) * plot_h

    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {box.width} {box.height}" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for tick in ticks:
        parts.append(f'<line class="grid{" zero" if tick == 0 else ""}" x1="{left}" x2="{box.width - box.right}" '
                     f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
                     f'<text class="axis" x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f'{escape(whole_kroner(tick))}</text>')
    slot = plot_w / max(count, 1)
    bar_w = slot * 0.62
    # labels wider than their bar's slot are drawn at -30° (the box's `bottom` leaves them room)
    slanted = max((len(label) for label in labels), default=0) * box.char_width > slot * 0.9
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        name = descriptions[i] if i < len(descriptions) else label
        selected = ' selected' if highlight == i else ''
        parts.append(f'<g class="bar{selected}" data-label="{escape(label)}">')
        up, down = Decimal(0), Decimal(0)
        for s in series:
            value = s.values[i]
            if value == 0:
                continue
            start = up if value > 0 else down
            end = start + value
            if value > 0:
                up = end
            else:
                down = end
            y1, y2 = sorted((y(start), y(end)))
            parts.append(f'<rect class="{escape(s.css_class)}" x="{x:.1f}" y="{y1:.1f}" width="{bar_w:.1f}" '
                         f'height="{max(y2 - y1, 0.5):.1f}"><title>{escape(name)}: {escape(s.name)} '
                         f'{escape(kroner(value))} kr.</title></rect>')
        if slanted:
            parts.append(f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{box.height - box.bottom + 14}" '
                         f'text-anchor="end" transform="rotate(-30 {x + bar_w / 2:.1f} '
                         f'{box.height - box.bottom + 14})">{escape(label)}</text></g>')
        else:
            parts.append(f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{box.height - box.bottom + 16}" '
                         f'text-anchor="middle">{escape(label)}</text></g>')
    legend_x = left
    for s in series:
        parts.append(f'<rect class="{escape(s.css_class)}" x="{legend_x}" y="10" width="12" height="12"/>'
                     f'<text class="legend" x="{legend_x + 17}" y="20">{escape(s.name)}</text>')
        legend_x += 17 + int(len(s.name) * box.char_width) + 22
    parts.append("</svg>")
    return Markup("".join(parts))
