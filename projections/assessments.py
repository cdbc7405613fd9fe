"""A citizen's assessments (døgnskemaer) as tables of minutes, each with what changed from the
assessment before it: the citizen page shows them, and so can the buying municipality's page.

Pure: it reads a citizen's stays as their rows hold them (projections/stays.py `StayRecord`,
which keeps the move-ins and reassessments in force) and the assessment each recorded (by
event id). Rules:

- an assessment counts from its effective date; a retracted one does not count; of several
  taking effect on the same day in one stay, the one recorded last is in force (as in the
  stay's conditions), so the others never took effect and are left out;
- each is compared with the one in force before it in the same stay; the first of a stay
  (its move-in) has nothing before it;
- a cell is (theme, slot, kind) with its minutes (several entries of one cell add up); a cell
  is added (none before), removed (none now) or changed (other minutes);
- an assessment migrated as hours per day alone has no cells: beside it only hours per day
  and level are compared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Literal, Mapping

from domain.assessment import KINDS, SLOTS, THEMES
from projections.stays import StayRecord

Cell = tuple[str, str, str]
"""(theme, slot, kind), in the order of domain/assessment.py."""
CELLS: tuple[Cell, ...] = tuple((theme, slot, kind) for theme in THEMES for slot in SLOTS for kind in KINDS)
"""Every cell of a døgnskema, theme by theme, slot by slot, direct before indirect."""


def cell_minutes(assessment: Mapping[str, Any]) -> dict[Cell, int]:
    """The minutes of each cell of a recorded assessment (none for hours per day alone)."""
    minutes: dict[Cell, int] = {}
    for entry in assessment.get("entries") or ():
        cell = (entry["theme"], entry["slot"], entry["kind"])
        minutes[cell] = minutes.get(cell, 0) + int(entry["minutes"])
    return minutes


@dataclass(frozen=True)
class CellChange:
    """One cell whose minutes differ from the assessment before."""

    theme: str
    slot: str
    kind: str
    before: int
    after: int

    @property
    def change(self) -> Literal["added", "removed", "changed"]:
        if self.before == 0:
            return "added"
        return "removed" if self.after == 0 else "changed"

    @property
    def cell(self) -> Cell:
        return (self.theme, self.slot, self.kind)


@dataclass(frozen=True)
class AssessmentChange:
    """What changed from the assessment in force before (`previous_*`) to this one."""

    previous_event_id: str
    previous_effective_date: date
    hours_before: Decimal
    hours_after: Decimal
    level_before: int | None
    level_after: int | None
    cells: tuple[CellChange, ...]
    """Every cell added, removed or changed (empty when `cells_compared` is false)."""
    cells_compared: bool
    """False when either assessment is hours per day alone (no døgnskema to compare)."""

    def of_kind(self, change: str) -> tuple[CellChange, ...]:
        return tuple(c for c in self.cells if c.change == change)

    @property
    def added(self) -> tuple[CellChange, ...]:
        return self.of_kind("added")

    @property
    def removed(self) -> tuple[CellChange, ...]:
        return self.of_kind("removed")

    @property
    def changed(self) -> tuple[CellChange, ...]:
        return self.of_kind("changed")

    @property
    def hours_difference(self) -> Decimal:
        return self.hours_after - self.hours_before


@dataclass(frozen=True)
class AssessmentRecord:
    """One assessment in force in a stay, with its cells and its change from the one before."""

    event_id: str
    stay_id: str
    facility: str
    event_type: str
    """CitizenMovedIn or CitizenReassessed."""
    effective_date: date
    hours_per_day: Decimal
    level: int | None
    """None: above level 8, priced by a special tariff."""
    special_tariff: str | None
    """The special tariff in force from the effective date (set when the level is None)."""
    cells: tuple[tuple[Cell, int], ...]
    """(cell, minutes) of every cell with minutes, in the order of `CELLS`."""
    change: AssessmentChange | None
    """None for the first assessment of a stay."""

    @property
    def is_døgnskema(self) -> bool:
        """False for an assessment migrated as hours per day alone."""
        return bool(self.cells)

    def minutes(self) -> dict[Cell, int]:
        return dict(self.cells)

    @property
    def total_minutes(self) -> int:
        return sum(minutes for _, minutes in self.cells)


def compare(previous: AssessmentRecord, current: AssessmentRecord) -> AssessmentChange:
    """What changed from `previous` to `current`: hours, level and every cell that differs."""
    compared = previous.is_døgnskema and current.is_døgnskema
    before, after = previous.minutes(), current.minutes()
    cells = tuple(CellChange(*cell, before.get(cell, 0), after.get(cell, 0)) for cell in CELLS
                  if before.get(cell, 0) != after.get(cell, 0)) if compared else ()
    return AssessmentChange(previous.event_id, previous.effective_date, previous.hours_per_day,
                            current.hours_per_day, previous.level, current.level, cells, compared)


def stay_assessments(stay: StayRecord, recorded: Mapping[str, Mapping[str, Any]]) -> list[AssessmentRecord]:
    """The assessments in force in one stay (projections/stays.py `StayRecord`: the stay row's),
    in effective order, each compared with the one before it. `recorded` holds the assessment
    of each move-in and reassessment by event id."""
    records: list[AssessmentRecord] = []
    for fact in stay.assessments:
        minutes = cell_minutes(recorded.get(fact.event_id, {}))
        special = next((c.special_tariff for start, c in reversed(stay.conditions) if start <= fact.effective_date),
                       None)
        record = AssessmentRecord(
            event_id=fact.event_id, stay_id=stay.stay_id, facility=stay.facility, event_type=fact.type,
            effective_date=fact.effective_date, hours_per_day=fact.hours_per_day,
            level=fact.level, special_tariff=special if fact.level is None else None,
            cells=tuple((cell, minutes[cell]) for cell in CELLS if cell in minutes), change=None,
        )
        if records:
            record = replace(record, change=compare(records[-1], record))
        records.append(record)
    return records


def assessment_history(stays: Iterable[StayRecord], recorded: Mapping[str, Mapping[str, Any]]
                       ) -> list[AssessmentRecord]:
    """The assessments of every stay (none void), stay by stay (see `stay_assessments`)."""
    return [record for stay in stays for record in stay_assessments(stay, recorded)]
