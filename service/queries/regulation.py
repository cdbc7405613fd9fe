"""Regulation of closed years (efterregulering, domain §4.9): per facility with closed accounts,
the result, what is carried over and what goes to the tariff of the target year, as of a
recorded position (the API, the UI's page and `ledger export regulation` read it here)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from service.ledger import BudgetLedger
from service.queries.values import kr
from service.regulation import RegulationReads

MONEY = ("revenue", "cost_basis", "actual_costs", "result", "carry_over", "to_tariff", "regulation_line",
         "post_closing_adjustments", "result_at_closing", "applied_line")


TOTALLED = ("revenue", "cost_basis", "actual_costs", "result", "carry_over", "to_tariff", "post_closing_adjustments")
"""The amounts that add up across facilities (the `totals` row)."""


def regulation_public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: kr(v) if k in MONEY else v for k, v in row.items()}


def regulation_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The sums of the facilities' amounts, and how many facilities' target-year frame budgets
    carry their regulation line (`applied` of `facilities`)."""
    totals: dict[str, Any] = {k: kr(sum((Decimal(r[k]) for r in rows), Decimal(0))) for k in TOTALLED}
    return {**totals, "facilities": len(rows), "applied": sum(1 for r in rows if r["applied"])}


def regulation_body(ledger: BudgetLedger, year: int, position: int) -> dict[str, Any]:
    """The regulation's body as of a recorded position; each row names its facility (`name`)
    beside the code."""
    reads = RegulationReads(ledger)
    names = {code: fact["name"] for code, fact in reads.budgets.facts(position, "facility", 0).items()}
    rows = [{**regulation_public(r), "name": names.get(r["facility"])} for r in reads.year(year, position)]
    return {"year": year, "as_of_position": position, "limit_pct": str(reads.limit_pct),
            "years_to_tariff": reads.years, "facilities": rows, "totals": regulation_totals(rows)}


def regulation_of(ledger: BudgetLedger, code: str, target: int, position: int) -> dict[str, Any] | None:
    """The regulation whose result enters the tariff of the facility's `target` year (None:
    none), with whether that year's frame budget carries its line (`applied`)."""
    row = RegulationReads(ledger).for_target_year(code, target, position)
    if row is None:
        return None
    return {k: v for k, v in regulation_public(row).items()
            if k in ("to_tariff", "regulation_line", "applied", "applied_line", "post_closing_adjustments")} | {
        "from_year": target - ledger.settings.regulation_years}
