"""Regulation of closed years and the replay of a year with a draft schedule (domain §4.9).

Regulation reads the budget read models as of a point: a facility-year's present days,
service rates, frame and activity, and its annual accounts (a year is closed for a facility
once they are recorded). The result as it stood when the accounts were recorded is the same
read as of that position, so post-closing adjustments need no second bookkeeping.

The what-if prices a year's present days (the day postings, or beyond the horizon the stay
rows: `BudgetReads.day_groups`) with the draft's rates in place of the year's rates and
revisions (levels stay as assessed, special tariffs keep their own rates), per facility and
per paying municipality, and records nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from domain import municipalities
from domain.values import ZERO
from projections.budget import YearFigures
from projections.regulation import Regulation, regulate, revenue, what_if_sums
from service.db import ledger_entries
from service.ledger import BudgetLedger
from service.read_models import BudgetReads


def _positions_of(ledger: BudgetLedger, event_ids: list[str]) -> dict[str, int]:
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(ledger_entries.c.event_id, ledger_entries.c.position)
                                  .where(ledger_entries.c.event_id.in_(event_ids))).all()
    return {row.event_id: row.position for row in rows}


class RegulationReads:
    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.budgets = BudgetReads(ledger)
        self.limit_pct = ledger.settings.regulation_limit_pct
        self.years = ledger.settings.regulation_years

    def regulation(self, figures: YearFigures, actual_costs: Decimal) -> Regulation:
        totals = figures.totals()
        earned = revenue(totals.stays.present_days, figures.basistakst, totals.stays.present_service)
        return regulate(earned, totals.frame + totals.activity, actual_costs, self.limit_pct)

    def closed(self, year: int, position: int) -> dict[str, dict[str, Any]]:
        """The facilities whose `year` is closed as of `position`, with their accounts."""
        return self.budgets.facts(position, "accounts", year)

    def rows(self, year: int, position: int, closed: dict[str, dict[str, Any]],
             now: dict[str, YearFigures]) -> list[dict[str, Any]]:
        """The regulation of each closed facility-year: now (`now`, the figures as of
        `position`) and as it stood when its accounts were recorded."""
        closed_at = _positions_of(self.ledger, [accounts["event_id"] for accounts in closed.values()])
        target = year + self.years
        frames = self.budgets.facts(position, "frame", target)
        at_closing = self.budgets.facility_years_at(
            year, {code: closed_at[accounts["event_id"]] for code, accounts in closed.items()})
        rows = []
        for code, accounts in sorted(closed.items()):
            costs = Decimal(accounts["actual_costs"])
            at = closed_at[accounts["event_id"]]
            regulated = self.regulation(now[code], costs)
            then = self.regulation(at_closing[code], costs)
            frame = frames.get(code)
            line = None if frame is None else next(
                (Decimal(l["amount"]) for l in frame["lines"] if l["category"] == "regulation"), None)
            rows.append({
                "facility": code, "revenue": regulated.revenue, "cost_basis": regulated.cost_basis,
                "actual_costs": costs, "result": regulated.result, "carry_over": regulated.carry_over,
                "to_tariff": regulated.to_tariff, "target_year": target, "regulation_line": regulated.regulation_line,
                "post_closing_adjustments": regulated.result - then.result, "closed_at_position": at,
                "result_at_closing": then.result,
                "applied": line is not None and line == regulated.regulation_line, "applied_line": line,
            })
        return rows

    def year(self, year: int, position: int) -> list[dict[str, Any]]:
        closed = self.closed(year, position)
        if not closed:
            return []
        now = {code: figures for code, (_, figures) in self.budgets.all_facility_years(year, position).items()}
        return self.rows(year, position, closed, now)

    def for_target_year(self, code: str, target: int, position: int) -> dict[str, Any] | None:
        """The regulation that belongs in `target`'s frame budget, if its year is closed."""
        year = target - self.years
        accounts = self.closed(year, position).get(code)
        if accounts is None:
            return None
        (row,) = self.rows(year, position, {code: accounts}, {code: self.budgets.facility_year(code, year, position)})
        return row


def what_if(ledger: BudgetLedger, year: int, position: int, draft_rates: dict[int, Decimal],
            draft_special: dict[str, Decimal] | None = None) -> dict[str, Any]:
    """Revenue of `year` per facility and per paying municipality, charged and with the draft.

    The year's present days as of `position`, by facility and by what prices them
    (`BudgetReads.day_groups`), charged basistakst + their rate and, in the draft, basistakst +
    the draft's rate of their level (a special tariff keeps its own rate, unless
    `draft_special` gives one for its code: then every day on that special tariff is at that
    rate): `projections.regulation.what_if_sums`. Every facility registered at `position` has
    a row; a payer is named beside its code (`paying_municipality_name`, None for a code
    outside the register)."""
    budgets = BudgetReads(ledger)
    frames = budgets.facts(position, "frame", year)
    basistakst = {code: Decimal(frame["basistakst"]) for code, frame in frames.items()}
    facilities, payers = what_if_sums(budgets.day_groups(year, position), basistakst, draft_rates, draft_special or {})
    for code in budgets.facility_codes(position):
        facilities.setdefault(code, [ZERO, ZERO])

    def rows(name: str, sums: dict[str, list[Decimal]]) -> list[dict[str, Any]]:
        return [{name: key, "actual": actual, "what_if": draft, "difference": draft - actual}
                for key, (actual, draft) in sorted(sums.items())]

    by_payer = [{**row, "paying_municipality_name": municipalities.official_name(row["paying_municipality"])}
                for row in rows("paying_municipality", payers)]
    return {"facilities": rows("facility", facilities), "paying_municipalities": by_payer}
