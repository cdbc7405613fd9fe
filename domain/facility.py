"""Facilities (tilbud: botilbud and bofællesskaber) with capacity, frame budgets, baselines
and annual accounts.

Rules (domain §3, §4.2):
- a facility has a unique code, a kind (`botilbud` or `bofaellesskab`), an area and places > 0;
- capacity changes take effect from their effective date; on a day, the latest effective
  change counts (then the latest recorded);
- places (registered, changed, budgeted) are 1-10 000;
- a frame budget (rammebudget) replaces the year's frame; its lines use the model's cost
  categories; amounts are ≥ 0 except the `regulation` line (efterregulering), which may be
  negative, and at most 10 000 000 000.00 kr. in absolute value (so are baselines and actual
  costs); planned occupancy is 1-100 %, a phase-in 0-100 %;
- a baseline (the old model's budget) and a phase-in % may be recorded for a year;
- annual accounts (årsregnskab) close a year; a second set for the same year is a correction
  and needs a reason;
- a facility's registration cannot be retracted (everything else about it hangs on it).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, Sequence

from eventsourcing.domain import event

from domain.errors import InvalidValue, RuleViolation
from domain.ledger import Entry, LedgerAggregate
from domain.values import (
    Meta,
    canonical_reference,
    check_amount,
    check_no_cpr,
    check_percent,
    check_positive,
    check_year,
    money,
    percent,
)

KINDS = ("botilbud", "bofaellesskab")
COST_CATEGORIES = (
    "ledelse_administration",
    "bygninger_drift",
    "servicepersonale",
    "nattevagt",
    "kompetenceudvikling",
    "tilsyn",
    "afskrivninger",
    "sundhed_tvaergaaende",
    "moeder_netvaerk",
    "amr_tr",
    "regulation",
    "other",
)
REGULATION = "regulation"
MAX_PLACES = 10_000
"""No facility has more places than this; a larger number is a typing error."""
_NAMESPACE = uuid.UUID("0e7f2c9a-51f4-4b0c-8a57-3f1f4f6a2b10")


def facility_id(code: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"facility:{code}")


def _check_places(places: Any, field: str = "places") -> int:
    if not isinstance(places, int) or isinstance(places, bool):
        raise InvalidValue("invalid_places", "places must be a whole number", field)
    check_positive(places, field)
    if places > MAX_PLACES:
        raise InvalidValue("too_many_places", f"places must be at most {MAX_PLACES}, got {places}", field)
    return places


def _check_text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("required", "must be a non-empty text", field)
    check_no_cpr(value, field)
    return value.strip()


class Facility(LedgerAggregate):
    """A residential facility and everything finance records about it."""

    @staticmethod
    def create_id(code: str, **_: Any) -> uuid.UUID:
        return facility_id(code)

    @classmethod
    def register(cls, code: Any, name: Any, kind: Any, area: Any, places: Any, meta: Meta) -> "Facility":
        code = canonical_reference(code, "code")
        if kind not in KINDS:
            raise InvalidValue("unknown_kind", "kind must be botilbud or bofaellesskab", "kind")
        return cls(
            code=code,
            name=_check_text(name, "name"),
            kind=kind,
            area=_check_text(area, "area"),
            places=_check_places(places),
            meta=meta,
        )

    @event("FacilityRegistered")
    def __init__(self, code: str, name: str, kind: str, area: str, places: int, meta: Meta) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.area = area
        self.registered_places = places
        self.registered_on = meta.effective_date
        self.capacity_changes: list[dict[str, Any]] = []
        self.frame_budgets: list[dict[str, Any]] = []
        self.baselines: list[dict[str, Any]] = []
        self.accounts: list[dict[str, Any]] = []

    # Capacity ----------------------------------------------------------------------------

    def change_capacity(self, places: Any, meta: Meta) -> None:
        self._capacity_changed(meta=meta, places=_check_places(places))

    @event("CapacityChanged")
    def _capacity_changed(self, meta: Meta, places: int) -> None:
        self.capacity_changes.append(
            {"event_id": meta.event_id, "effective_date": meta.effective_date, "places": places, "active": True}
        )

    def places_on(self, day: date) -> int:
        """Places in force on `day`: the latest effective change (then latest recorded)."""
        return places_in_force(self.registered_places, self.active_capacity_changes(), day)

    def active_capacity_changes(self) -> list[tuple[date, int]]:
        """(effective date, places) of every change not retracted, in recording order."""
        return [(c["effective_date"], c["places"]) for c in self.capacity_changes if c["active"]]

    @property
    def places(self) -> int:
        """Places in force by the latest effective change, whatever its date."""
        changes = self.active_capacity_changes()
        return places_in_force(self.registered_places, changes, max((d for d, _ in changes), default=date.min))

    # Frame budget ------------------------------------------------------------------------

    def set_frame_budget(
        self, year: Any, budgeted_places: Any, planned_occupancy_pct: Any, lines: Any, meta: Meta
    ) -> None:
        check_year(year)
        places = _check_places(budgeted_places, "budgeted_places")
        occupancy = check_percent(percent(planned_occupancy_pct, "planned_occupancy_pct"), "planned_occupancy_pct", 1)
        self._frame_budget_set(
            meta=meta, year=year, budgeted_places=places, planned_occupancy_pct=occupancy,
            lines=normalise_lines(lines),
        )

    @event("FrameBudgetSet")
    def _frame_budget_set(
        self, meta: Meta, year: int, budgeted_places: int, planned_occupancy_pct: Decimal, lines: list
    ) -> None:
        self.frame_budgets.append(
            {
                "event_id": meta.event_id, "year": year, "budgeted_places": budgeted_places,
                "planned_occupancy_pct": planned_occupancy_pct, "lines": lines, "active": True,
            }
        )

    def frame_budget(self, year: int) -> dict[str, Any] | None:
        """The frame of `year` in force: the latest set, not retracted."""
        return _latest_active(self.frame_budgets, year)

    # Baseline ----------------------------------------------------------------------------

    def set_baseline(self, year: Any, baseline_budget: Any, phase_in_pct: Any, meta: Meta) -> None:
        check_year(year)
        budget = check_amount(money(baseline_budget, "baseline_budget"), "baseline_budget")
        phase_in = check_percent(percent(phase_in_pct, "phase_in_pct"), "phase_in_pct", 0)
        self._baseline_set(meta=meta, year=year, baseline_budget=budget, phase_in_pct=phase_in)

    @event("BaselineSet")
    def _baseline_set(self, meta: Meta, year: int, baseline_budget: Decimal, phase_in_pct: Decimal) -> None:
        self.baselines.append(
            {"event_id": meta.event_id, "year": year, "baseline_budget": baseline_budget,
             "phase_in_pct": phase_in_pct, "active": True}
        )

    def baseline(self, year: int) -> dict[str, Any] | None:
        return _latest_active(self.baselines, year)

    # Annual accounts ---------------------------------------------------------------------

    def record_accounts(self, year: Any, actual_costs: Any, meta: Meta) -> None:
        check_year(year)
        costs = check_amount(money(actual_costs, "actual_costs"), "actual_costs")
        if self.accounts_for(year) is not None and not (meta.reason and meta.reason.strip()):
            raise RuleViolation(
                "accounts_correction_needs_reason",
                f"the accounts of {year} are already recorded; a correction needs a reason",
                "reason",
            )
        self._accounts_recorded(meta=meta, year=year, actual_costs=costs)

    @event("AnnualAccountsRecorded")
    def _accounts_recorded(self, meta: Meta, year: int, actual_costs: Decimal) -> None:
        self.accounts.append(
            {"event_id": meta.event_id, "year": year, "actual_costs": actual_costs, "active": True}
        )

    def accounts_for(self, year: int) -> dict[str, Any] | None:
        return _latest_active(self.accounts, year)

    def is_closed(self, year: int) -> bool:
        return self.accounts_for(year) is not None

    # Retraction --------------------------------------------------------------------------

    def check_retractable(self, target: Entry) -> None:
        if target.type == "FacilityRegistered":
            raise RuleViolation(
                "registration_not_retractable",
                "a facility's registration cannot be retracted; correct its details with "
                "the later events instead",
                "event_id",
            )

    def on_retracted(self, target: Entry) -> None:
        for item in self.capacity_changes + self.frame_budgets + self.baselines + self.accounts:
            if item["event_id"] == target.event_id:
                item["active"] = False


def normalise_lines(lines: Any, field: str = "lines") -> list[dict[str, Any]]:
    """Frame-budget lines: known categories, each once, amounts ≥ 0 except `regulation`."""
    if not isinstance(lines, list) or not lines:
        raise InvalidValue("lines_required", "a frame budget needs at least one line", field)
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(lines):
        where = f"{field}[{i}]"
        category = line.get("category") if isinstance(line, dict) else None
        if category not in COST_CATEGORIES:
            raise InvalidValue(
                "unknown_category", f"category must be one of {', '.join(COST_CATEGORIES)}", f"{where}.category"
            )
        if any(r["category"] == category for r in rows):
            raise InvalidValue("duplicate_category", f"{category} appears twice", f"{where}.category")
        amount = check_amount(money(line.get("amount"), f"{where}.amount"), f"{where}.amount",
                              allow_negative=category == REGULATION)
        rows.append({"category": category, "amount": amount})
    return rows


def places_in_force(registered: int, changes: Sequence[tuple[date, int]], day: date) -> int:
    """The places on `day`: of the changes (in recording order) effective on or before it, the
    latest effective counts, then the latest recorded; without one, the registered places."""
    in_force = [c for c in changes if c[0] <= day]
    if not in_force:
        return registered
    return sorted(in_force, key=lambda c: c[0])[-1][1]


def _latest_active(items: list[dict[str, Any]], year: int) -> dict[str, Any] | None:
    for item in reversed(items):
        if item["active"] and item["year"] == year:
            return item
    return None
