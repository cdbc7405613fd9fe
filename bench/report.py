"""Figures beside their baselines and targets: the Rich table, the JSON results, and the
comparison of two runs (how each cost grows with the number of events)."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.store import postgres_version, sqlite_version

MIB = 1024 * 1024


@dataclass
class Figure:
    """One measured figure. A rate (`higher_is_better`) meets an absolute `target` when at least
    it, anything else when at most it; `min_ratio` asks value / baseline to be at least it.
    `work` is how much a rate's job did (events, commands): its cost is work / value, the time
    of the job, which is what `compare` relates to the number of events. From a smaller run to
    a larger one the cost may grow as events^`growth` (1: linear, quality.md; 0: not at all, a
    figure per event) and, with `scale_ratio`, to at most that many times the smaller run's."""

    key: str
    label: str
    unit: str
    value: float | None
    higher_is_better: bool = False
    baseline: float | None = None
    baseline_label: str | None = None
    target: float | None = None
    min_ratio: float | None = None
    work: float = 1.0
    note: str | None = None
    reason: str | None = None
    """Why a missed target was missed, in the run's own measurements (`bench.reasons`)."""
    growth: float = 1.0
    scale_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline or _nan(self.value) or _nan(self.baseline):
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        checks = []
        if self.target is not None:
            if self.value is None or _nan(self.value):
                return False
            checks.append(self.value >= self.target if self.higher_is_better else self.value <= self.target)
        if self.min_ratio is not None:
            checks.append(self.ratio is not None and self.ratio >= self.min_ratio)
        return all(checks) if checks else None

    @property
    def cost(self) -> float | None:
        if self.value is None or _nan(self.value) or self.value == 0:
            return None
        return self.work / self.value if self.higher_is_better else self.value


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def fmt(value: float | None, unit: str) -> str:
    if value is None or _nan(value):
        return "—"
    if unit.startswith("/"):
        return f"{value:,.0f}".replace(",", " ") + f" {unit}"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if unit == "rows":
        return f"{value:.2f} rows"
    if unit.startswith("µs"):
        return f"{value:.1f} {unit}"
    return f"{value:g} {unit}"


def target_text(figure: Figure) -> str:
    parts = []
    if figure.target is not None:
        parts.append(("≥ " if figure.higher_is_better else "≤ ") + fmt(figure.target, figure.unit))
    if figure.min_ratio is not None:
        parts.append(f"≥ {figure.min_ratio:.0%} of baseline")
    if figure.scale_ratio is not None:
        parts.append(f"≤ {figure.scale_ratio:g}× the smaller scale's (compare)")
    return " and ".join(parts) or "—"


def ratio_text(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.3g}"


@dataclass
class Results:
    scale: str
    store: str
    seed: int
    started: str
    finished: str
    machine: dict[str, Any]
    data: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)

    def to_json(self) -> str:
        body = asdict(self)
        for row, figure in zip(body["figures"], self.figures):
            row.update(ratio=figure.ratio, met=figure.met, cost=figure.cost)
        return json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n"

    @classmethod
    def load(cls, path: Path) -> "Results":
        body = json.loads(path.read_text(encoding="utf-8"))
        names = set(Figure.__dataclass_fields__)
        figures = [Figure(**{k: v for k, v in row.items() if k in names}) for row in body.pop("figures")]
        return cls(**body, figures=figures)

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started.replace("-", "").replace(":", "").split(".")[0].replace("+0000", "")
        path = directory / f"{self.scale}-{self.store}-{stamp}Z.json"
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def baseline_text(f: Figure) -> str:
    if f.baseline is None:
        return "—"
    return f"{fmt(f.baseline, f.unit)} ({f.baseline_label})" if f.baseline_label else fmt(f.baseline, f.unit)


def table(results: Results) -> Table:
    data = results.data
    title = (f"{results.scale} on {results.store}: {data.get('store_events', '?')} events "
             f"({data.get('commands', '?')} import commands), seed {results.seed}")
    grid = Table(title=title, title_justify="left")
    for name, justify in (("figure", "left"), ("value", "right"), ("baseline", "right"), ("ratio", "right"),
                          ("target", "left"), ("met?", "center")):
        grid.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in results.figures:
        baseline = baseline_text(f)
        met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: ""}[f.met]
        label = f.label + (f" [dim]({f.note})[/dim]" if f.note else "")
        grid.add_row(label, fmt(f.value, f.unit), baseline, ratio_text(f.ratio), target_text(f), met)
    return grid


def reasons(results: Results) -> list[str]:
    """Each missed target with the measured reason (one line each)."""
    return [f"{f.label}: {f.reason}" for f in results.figures if f.met is False and f.reason]


def markdown(results: Results) -> str:
    """The same table as Markdown (for docs/benchmarks.md)."""
    rows = ["| figure | value | baseline | ratio | target | met? |", "|---|---:|---:|---:|---|:---:|"]
    for f in results.figures:
        baseline = baseline_text(f)
        met = {True: "yes", False: "**no**", None: ""}[f.met]
        label = f.label + (f" ({f.note})" if f.note else "")
        rows.append(f"| {label} | {fmt(f.value, f.unit)} | {baseline} | {ratio_text(f.ratio)} | "
                    f"{target_text(f)} | {met} |")
    missed = reasons(results)
    if missed:
        rows += ["", "Missed, and why (measured in the same run):", ""] + [f"- {line}" for line in missed]
    written = writes_rows(results)
    if written is not None:
        title, head, body, notes = written
        rows += ["", f"{title}:", "", "| " + " | ".join(head) + " |",
                 "|---|" + "---:|" * (len(head) - 1)] + ["| " + " | ".join(row) + " |" for row in body]
        for note in notes:
            rows += ["", note]
    return "\n".join(rows) + "\n"


def side_by_side(runs: list[Results]) -> str:
    """Several runs' figures as one Markdown table, a column per run (for docs/benchmarks.md):
    each value with its ratio to its baseline where it is a rate, in bold where it misses."""
    stores = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    head = " | ".join(f"{run.scale} {stores.get(run.store, run.store)}" for run in runs)
    rows = [f"| figure | {head} | target |", "|---|" + "---:|" * len(runs) + "---|"]
    keys = list(dict.fromkeys(f.key for run in runs for f in run.figures))
    for key in keys:
        figures = [run.figure(key) for run in runs]
        first = next(f for f in figures if f is not None)
        cells = []
        for f in figures:
            text = "—" if f is None else fmt(f.value, f.unit)
            if f is not None and f.unit.startswith("/") and f.ratio is not None:
                text += f" ({ratio_text(f.ratio)})"
            cells.append(f"**{text}**" if f is not None and f.met is False else text)
        rows.append(f"| {first.label} | " + " | ".join(cells) + f" | {target_text(first)} |")
    return "\n".join(rows) + "\n"


def writes_rows(results: Results) -> tuple[str, list[str], list[list[str]], list[str]] | None:
    """The read-model row versions the rebuild wrote per event, by event type (bench/writes.py):
    a title, the columns, a row per type and the totals, and notes; None if the run has none."""
    from bench.writes import Writes

    body = results.data.get("rows_per_event")
    if not body:
        return None
    counted = Writes.from_json(body)
    head = ["event type", "events", "row versions", "per event", "most in one event",
            *(f"{table} per event" for table in counted.tables)]
    rows = []
    for t in (*counted.types, counted.total(citizen_only=True), counted.total()):
        name = f"**{t.name}**" if t.name in ("citizen events", "all events") else t.name + (" ·" if t.citizen else "")
        rows.append([name, count_text(t.events), count_text(t.rows), f"{t.per_event:.2f}", count_text(t.most),
                     *(f"{t.by_table.get(table, 0) / t.events:.2f}" if t.events else "—" for table in counted.tables)])
    notes = ["· a citizen event (a citizen's stream, or the retraction of one of its events)."]
    if counted.unattributed:
        notes.append("Row versions at no event's position: " + ", ".join(
            f"{table} {count_text(n)}" for table, n in counted.unattributed.items()) + ".")
    if counted.uncounted:
        notes.append("Read-model tables without `recorded_from`, not counted: " + ", ".join(
            f"{table} ({count_text(n)} rows)" for table, n in counted.uncounted.items()) + ".")
    if counted.postgresql_writes:
        notes.append("PostgreSQL counted in these tables, since the rebuild created them: " + "; ".join(
            f"{table} {count_text(w['inserted'])} inserted, {count_text(w['updated'])} updated, {count_text(w['deleted'])} deleted"
            for table, w in counted.postgresql_writes.items()) + ".")
    return "Read-model row versions `ledger rebuild` wrote, per event, by event type", head, rows, notes


def count_text(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def bound_text(figure: Figure) -> str:
    text = f"k ≤ {figure.growth:g}"
    return text + (f", ratio ≤ {figure.scale_ratio:g}" if figure.scale_ratio is not None else "")


def growth(smaller: Results, larger: Results) -> tuple[str, list[list[str]]]:
    """How each cost grows from one run to a larger one. The exponent k in cost ∝ events^k is
    log(cost ratio) / log(events ratio): 1 is linear, 0 constant; a figure is within its bound
    when k ≤ its `growth` (1 by default: quality.md's 'linear or better'; 0 for a figure per
    event) and the cost ratio ≤ its `scale_ratio` when it has one. Returns a title and rows
    (figure, both values, cost ratio, k, bound, verdict)."""
    events = (smaller.data.get("store_events") or 0, larger.data.get("store_events") or 0)
    events_ratio = events[1] / events[0] if events[0] else math.nan
    title = (f"{smaller.scale} → {larger.scale} on {larger.store}: events × {events_ratio:.3g} "
             f"({events[0]} → {events[1]})")
    rows = []
    for figure in larger.figures:
        before = smaller.figure(figure.key)
        if before is None or before.cost is None or figure.cost is None:
            continue
        cost_ratio = figure.cost / before.cost
        k = math.log(cost_ratio) / math.log(events_ratio) if events_ratio > 1 and cost_ratio > 0 else math.nan
        verdict = "" if _nan(k) else ("yes" if k <= figure.growth + 0.05 and (
            figure.scale_ratio is None or cost_ratio <= figure.scale_ratio) else "no")
        rows.append([figure.label, fmt(before.value, before.unit), fmt(figure.value, figure.unit),
                     f"{cost_ratio:.3g}", "—" if _nan(k) else f"{k:.2f}", bound_text(figure), verdict])
    return title, rows


GROWTH_COLUMNS = ("figure", "smaller", "larger", "cost ratio", "exponent k", "bound", "within?")


def compare(smaller: Results, larger: Results) -> Table:
    title, rows = growth(smaller, larger)
    grid = Table(title=title, title_justify="left")
    for name in (GROWTH_COLUMNS[0], smaller.scale, larger.scale, *GROWTH_COLUMNS[3:]):
        grid.add_column(name, justify="left" if name in ("figure", "bound") else "right")
    for row in rows:
        colour = {"yes": "green", "no": "red"}.get(row[-1])
        grid.add_row(*row[:-1], f"[{colour}]{row[-1]}[/{colour}]" if colour else row[-1])
    return grid


def compare_markdown(smaller: Results, larger: Results) -> str:
    title, rows = growth(smaller, larger)
    head = [GROWTH_COLUMNS[0], smaller.scale, larger.scale, *GROWTH_COLUMNS[3:]]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|---|---:|---:|---:|---:|---|:---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=10).stdout.strip()
    except OSError:
        commit = ""
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(memory / 1024 ** 3, 1),
            "python": platform.python_version(), "sqlite": sqlite_version(), "postgresql": postgres_version(),
            "kernel": platform.release(), "commit": commit}


def print_results(results: Results, console: Console | None = None) -> None:
    console = console or Console()
    console.print(table(results))
    written = writes_rows(results)
    if written is not None:
        title, head, body, notes = written
        grid = Table(title=title, title_justify="left")
        for name in head:
            grid.add_column(name, justify="left" if name == "event type" else "right")
        for row in body:
            grid.add_row(*(cell.replace("**", "") for cell in row))
        console.print(grid)
        for note in notes:
            console.print(note, highlight=False, soft_wrap=True)
    missed = reasons(results)
    if missed:
        console.print("Missed, and why (measured in the same run):")
        for line in missed:
            console.print(f"  - {line}", highlight=False, soft_wrap=True)
