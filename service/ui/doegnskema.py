"""The døgnskema as a reusable piece of a form: the VUM 2.0 themes × the four time slots ×
direct and indirect minutes, in Danish, as one table.

- `fieldset` gives the table's context, from a posted form's values or a recorded assessment
  (with the changes from the one before marked); templates/doegnskema.html renders it, as
  inputs (`doegnskema_fieldset`) or as figures (`assessment_table`).
- `parse_assessment` turns the posted cells into the command's `Assessment` (the entries with
  minutes above 0), or refuses with a Danish message per cell (`SkemaErrors`).
- `preview` is what it gives before it is saved: hours per day and level under the schedule
  in force on the effective date (service/queries/assessments.py), the ledger's own figure.

A cell's field is named `m-{theme}-{slot}-{kind}` (e.g. `m-egenomsorg-morning-direct`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from pydantic import ValidationError

from domain.assessment import KINDS, MINUTES_PER_DAY, SLOTS, THEMES
from projections.assessments import CELLS, AssessmentChange, AssessmentRecord, Cell
from service import danish
from service.commands.fields import Assessment
from service.ledger import BudgetLedger
from service.queries.assessments import AssessmentPreview, preview_assessment
from service.ui.formatting import number
from service.ui.render import TEMPLATES

SKEMA = "doegnskema"
"""The key of an error about the døgnskema as a whole (not one cell)."""


def cell_field(theme: str, slot: str, kind: str) -> str:
    return f"m-{theme}-{slot}-{kind}"


def cell_name(theme: str, slot: str, kind: str) -> str:
    """'Egenomsorg, morgen (06-10), direkte'."""
    return f"{danish.THEMES[theme]}, {danish.SLOTS[slot].lower()}, {danish.KINDS[kind]}"


def cell_label(theme: str, slot: str, kind: str) -> str:
    """'Egenomsorg, morgen (06-10), direkte minutter' (an input's accessible name)."""
    return f"{cell_name(theme, slot, kind)} minutter"


TEMPLATES.env.filters["skema_cell"] = lambda change: cell_name(change.theme, change.slot, change.kind)
"""`{{ change | skema_cell }}`: a changed cell (projections/assessments.py `CellChange`) in Danish."""


class SkemaErrors(Exception):
    """The posted døgnskema cannot be an assessment: Danish messages by field (a cell's name, or
    `SKEMA` for the whole)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def cell_values(form: Mapping[str, Any]) -> dict[str, str]:
    """The posted cells as typed (to show them again), empty ones left out."""
    values = {}
    for cell in CELLS:
        name = cell_field(*cell)
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            values[name] = value.strip()
    return values


def values_of(minutes: Mapping[Cell, int]) -> dict[str, str]:
    """A recorded assessment's cells as form values."""
    return {cell_field(*cell): str(value) for cell, value in minutes.items() if value}


def _minutes(text: str) -> int:
    """A cell's minutes: a whole number from 0 to 1440 (spaces ignored)."""
    cleaned = text.replace(" ", "")
    if cleaned.startswith("-") and cleaned[1:].isascii() and cleaned[1:].isdigit():
        raise ValueError("Minutter kan ikke være negative.")
    if not (cleaned.isascii() and cleaned.isdigit()):
        raise ValueError(f"«{text}» er ikke et helt antal minutter.")
    value = int(cleaned)
    if value > MINUTES_PER_DAY:
        raise ValueError(f"Højst {number(MINUTES_PER_DAY)} minutter (et døgn).")
    return value


def parse_assessment(form: Mapping[str, Any]) -> Assessment:
    """The døgnskema of a posted form as the command's `Assessment`: one entry per cell with
    more than 0 minutes, in the order of the themes, slots and kinds. Refuses (SkemaErrors) a
    cell that is not a whole number from 0 to 1440, a døgnskema with no minutes, and one that
    sums to more than a day."""
    errors: dict[str, str] = {}
    entries = []
    for theme, slot, kind in CELLS:
        name = cell_field(theme, slot, kind)
        text = form.get(name)
        if not isinstance(text, str) or not text.strip():
            continue
        try:
            minutes = _minutes(text.strip())
        except ValueError as refused:
            errors[name] = str(refused)
            continue
        if minutes:
            entries.append({"theme": theme, "slot": slot, "kind": kind, "minutes": minutes})
    if errors:
        raise SkemaErrors(errors)
    if not entries:
        raise SkemaErrors({SKEMA: "Udfyld døgnskemaet: mindst ét felt med minutter over 0."})
    total = sum(e["minutes"] for e in entries)
    if total > MINUTES_PER_DAY:
        raise SkemaErrors({SKEMA: f"Døgnskemaet summer til {number(total)} minutter – mere end et døgn "
                                  f"({number(MINUTES_PER_DAY)} minutter)."})
    try:
        return Assessment.model_validate({"entries": entries})
    except ValidationError as refused:  # the bounds above are the declaration's; kept as a guard
        raise SkemaErrors({SKEMA: f"Døgnskemaet kan ikke registreres: {refused.errors()[0]['msg']}"}) from None


def preview(ledger: BudgetLedger, assessment: Assessment, effective_date: date) -> AssessmentPreview:
    """Hours per day and level the assessment gives on `effective_date` (the ledger's figure)."""
    return preview_assessment(ledger, assessment, effective_date)


@dataclass(frozen=True)
class CellView:
    name: str
    label: str
    slot: str
    kind: str
    value: str
    error: str | None = None
    change: str | None = None
    """added, removed or changed from the assessment before (a recorded one only)."""
    before: int | None = None


@dataclass(frozen=True)
class RowView:
    theme: str
    label: str
    cells: tuple[CellView, ...]
    total: int


@dataclass(frozen=True)
class Fieldset:
    """The døgnskema table's context for templates/doegnskema.html."""

    rows: tuple[RowView, ...]
    slots: tuple[tuple[str, str], ...]
    """(slot, Danish label) in order."""
    kinds: tuple[tuple[str, str], ...]
    column_totals: tuple[int, ...]
    """Minutes per slot and kind, in the order of the columns."""
    total_minutes: int
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def hours(self) -> Decimal:
        """Hours per day of the minutes shown (2 decimals, half-up, as the ledger shows them)."""
        return (Decimal(self.total_minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def skema_error(self) -> str | None:
        return self.errors.get(SKEMA)

    @property
    def cell_errors(self) -> list[tuple[str, str, str]]:
        """(field, cell label, message) of every cell refused, to list above the table."""
        labels = {cell_field(*cell): cell_label(*cell) for cell in CELLS}
        return [(name, labels[name], message) for name, message in self.errors.items() if name in labels]


def fieldset(values: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None,
             record: AssessmentRecord | None = None) -> Fieldset:
    """The table of a form's values (as typed, with their errors), or of a recorded assessment
    with each cell's change from the one before marked."""
    values = dict(values or {}) if record is None else values_of(record.minutes())
    errors = dict(errors or {})
    change: AssessmentChange | None = record.change if record is not None else None
    changed = {c.cell: c for c in change.cells} if change is not None else {}
    column_totals = [0] * (len(SLOTS) * len(KINDS))
    rows = []
    for theme in THEMES:
        cells, row_total = [], 0
        for column, (slot, kind) in enumerate((s, k) for s in SLOTS for k in KINDS):
            name = cell_field(theme, slot, kind)
            value = values.get(name, "")
            try:
                minutes = _minutes(value) if value else 0
            except ValueError:
                minutes = 0
            column_totals[column] += minutes
            row_total += minutes
            difference = changed.get((theme, slot, kind))
            cells.append(CellView(name, cell_label(theme, slot, kind), slot, kind, value, errors.get(name),
                                  difference.change if difference else None,
                                  difference.before if difference else None))
        rows.append(RowView(theme, danish.THEMES[theme], tuple(cells), row_total))
    return Fieldset(tuple(rows), tuple((s, danish.SLOTS[s]) for s in SLOTS),
                    tuple((k, danish.KINDS[k]) for k in KINDS), tuple(column_totals), sum(column_totals), errors)
