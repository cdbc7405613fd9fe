"""The web UI's server-side SVG bar chart and its Danish number formats (pure functions)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from service.ui.charts import Series, nice_step, stacked_bars
from service.ui.formatting import day, instant, kroner, number, pct, signed_kroner, whole_kroner

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def rects(svg: ET.Element, css_class: str) -> list[ET.Element]:
    return [r for bar in svg.iter(f"{SVG}g") for r in bar.iter(f"{SVG}rect") if r.get("class") == css_class]


def test_numbers_are_written_the_danish_way():
    assert kroner(Decimal("1234567.891")) == "1.234.567,89"
    assert kroner("-0.5") == "-0,50"
    assert whole_kroner(Decimal("25000000")) == "25.000.000 kr."
    assert whole_kroner("1234.50") == "1.235 kr." and whole_kroner("-2.50") == "-3 kr."  # half up, not half even
    assert number("2.5") == "3" and pct("88.85") == "88,9 %"
    assert number(3958, 0) == "3.958" and number(None) == "–"
    assert pct("88.9") == "88,9 %"
    assert signed_kroner("29159.30") == "+29.159,30" and signed_kroner("-29159.30") == "−29.159,30"
    assert day("2026-03-10") == "10.03.2026"
    assert instant("2026-11-23T22:22:41+00:00") == "23.11.2026 23:22"  # Copenhagen, winter time
    assert instant("2026-07-01T10:00:00+00:00") == "01.07.2026 12:00"  # summer time


@pytest.mark.parametrize("span, step", [(Decimal(7), Decimal(2)), (Decimal(25_000_000), Decimal(5_000_000)),
                                        (Decimal("2268410.20"), Decimal(500_000)), (Decimal(12), Decimal("2.5")),
                                        (Decimal(0), Decimal(1))])
def test_axis_steps_are_round_numbers_covering_the_span_in_at_most_five_steps(span, step):
    assert nice_step(span) == step
    assert span <= step * 5


def test_a_stacked_bar_chart_has_a_bar_per_label_with_its_parts_in_proportion():
    frames = tuple(Decimal(563925) for _ in range(12))
    activities = tuple(Decimal(1_000_000 + 100_000 * m) for m in range(12))
    svg = parse(stacked_bars([f"m{m}" for m in range(12)], [Series("Ramme", "frame", frames),
                                                              Series("Aktivitet", "activity", activities)],
                             title="Budget pr. måned", highlight=2))
    bars = [g for g in svg.iter(f"{SVG}g") if "bar" in g.get("class", "")]
    assert len(bars) == 12 and [b.get("data-label") for b in bars][:2] == ["m0", "m1"]
    assert bars[2].get("class") == "bar selected"
    frame, activity = rects(svg, "frame"), rects(svg, "activity")
    assert len(frame) == len(activity) == 12
    per_krone = float(frame[0].get("height")) / 563925
    for m in range(12):
        assert float(activity[m].get("height")) == pytest.approx(float(activities[m]) * per_krone, abs=0.11)
        # activity sits on top of the frame
        assert float(activity[m].get("y")) + float(activity[m].get("height")) == pytest.approx(
            float(frame[m].get("y")), abs=0.11)
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert "2.000.000 kr." in labels and "0 kr." in labels and "Ramme" in labels and "Aktivitet" in labels
    tooltips = [t.text for t in svg.iter(f"{SVG}title")]
    assert "m11: Aktivitet 2.100.000,00 kr." in tooltips


def test_negative_parts_hang_below_the_zero_line():
    svg = parse(stacked_bars(["a", "b"], [Series("Ramme", "frame", (Decimal(100), Decimal(-50)))], title="t"))
    zero = next(line for line in svg.iter(f"{SVG}line") if "zero" in line.get("class", ""))
    up, down = rects(svg, "frame")
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(float(zero.get("y1")), abs=0.11)
    assert float(down.get("y")) == pytest.approx(float(zero.get("y1")), abs=0.11)
    assert "-50 kr." in [t.text for t in svg.iter(f"{SVG}text")]


def test_text_in_a_chart_is_escaped_and_series_must_match_the_labels():
    svg = str(stacked_bars(["<b>"], [Series("A & B", "frame", (Decimal(1),))], title="x"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "A &amp; B" in svg
    with pytest.raises(ValueError):
        stacked_bars(["a", "b"], [Series("A", "frame", (Decimal(1),))], title="x")


def test_labels_wider_than_their_bar_are_slanted_and_short_ones_are_not():
    from service.ui.charts import Box

    long = stacked_bars([f"FACILITY-NUMBER-{i}" for i in range(12)], [Series("a", "a", (Decimal(1),) * 12)],
                        title="t", box=Box(bottom=100))
    short = stacked_bars(["jan", "feb"], [Series("a", "a", (Decimal(1), Decimal(2)))], title="t")
    assert long.count("rotate(-30") == 12 and "rotate(" not in short
