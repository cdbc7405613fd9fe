"""Regulation of closed years (efterregulering, domain §4.9): per facility with closed accounts,
the result, what is carried over and what goes to the tariff of the target year, as of a
recorded position (the API, the UI's page and `ledger export regulation` read it here; the
figures are service/regulation.py's). Amounts are rounded to øre per facility and the totals
sum the rounded amounts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from service.ledger import BudgetLedger
from service.queries.values import Figure, Money, ore
from service.regulation import RegulationReads


@dataclass(frozen=True)
class RegulationRow:
    """A closed facility-year: its result now and when its accounts were recorded."""

    facility: str
    revenue: Money
    cost_basis: Money
    actual_costs: Money
    result: Money
    carry_over: Money
    """Within ± the limit % of the cost basis: carried over."""
    to_tariff: Money
    """Beyond the limit: enters the tariff of the target year."""
    target_year: int
    regulation_line: Money
    post_closing_adjustments: Money
    """What the result moved since the accounts were recorded."""
    closed_at_position: int
    result_at_closing: Money
    applied: bool
    """Whether the target year's frame budget carries the regulation line."""
    applied_line: Money | None
    name: str | None


@dataclass(frozen=True)
class RegulationTotals:
    revenue: Money
    cost_basis: Money
    actual_costs: Money
    result: Money
    carry_over: Money
    to_tariff: Money
    post_closing_adjustments: Money
    facilities: int
    applied: int
    """How many facilities' target-year frame budgets carry their regulation line."""


@dataclass(frozen=True)
class YearRegulation:
    year: int
    as_of_position: int
    limit_pct: Figure
    years_to_tariff: int
    facilities: tuple[RegulationRow, ...]
    totals: RegulationTotals


@dataclass(frozen=True)
class TargetYearRegulation:
    """The regulation whose result enters a facility's frame budget of a year (its frame
    budget's `regulation`)."""

    to_tariff: Money
    regulation_line: Money
    post_closing_adjustments: Money
    applied: bool
    applied_line: Money | None
    from_year: int


def _rounded(value: Any) -> Any:
    return ore(value) if isinstance(value, Decimal) else value


def regulation_row(row: dict[str, Any], name: str | None) -> RegulationRow:
    return RegulationRow(**{k: _rounded(v) for k, v in row.items()}, name=name)


def regulation_totals(rows: tuple[RegulationRow, ...]) -> RegulationTotals:
    """The sums of the facilities' amounts, and how many facilities' target-year frame budgets
    carry their regulation line."""

    def total(name: str) -> Decimal:
        return sum((getattr(r, name) for r in rows), Decimal(0))

    return RegulationTotals(total("revenue"), total("cost_basis"), total("actual_costs"), total("result"),
                            total("carry_over"), total("to_tariff"), total("post_closing_adjustments"),
                            facilities=len(rows), applied=sum(1 for r in rows if r.applied))


def regulation_body(ledger: BudgetLedger, year: int, position: int) -> YearRegulation:
    """The regulation of `year` as of a recorded position; each row names its facility (`name`)
    beside the code."""
    reads = RegulationReads(ledger)
    names = {code: fact["name"] for code, fact in reads.budgets.facts(position, "facility", 0).items()}
    rows = tuple(regulation_row(r, names.get(r["facility"])) for r in reads.year(year, position))
    return YearRegulation(year, position, reads.limit_pct, reads.years, rows, regulation_totals(rows))


def regulation_of(ledger: BudgetLedger, code: str, target: int, position: int) -> TargetYearRegulation | None:
    """The regulation whose result enters the tariff of the facility's `target` year (None:
    none), with whether that year's frame budget carries its line (`applied`)."""
    row = RegulationReads(ledger).for_target_year(code, target, position)
    if row is None:
        return None
    found = regulation_row(row, None)
    return TargetYearRegulation(found.to_tariff, found.regulation_line, found.post_closing_adjustments, found.applied,
                                found.applied_line, target - ledger.settings.regulation_years)
