"""Regulation of closed years and the replay of a year with a draft schedule (domain §4.9).

Regulation reads the budget read models as of a point: a facility-year's present days,
service rates, frame and activity, and its annual accounts (a year is closed for a facility
once they are recorded). The result as it stood when the accounts were recorded is the same
read as of that position, so post-closing adjustments need no second bookkeeping.

The what-if replays a year's stays from the aggregates with the draft's rates in place of the
year's rates and revisions (levels stay as assessed, special tariffs keep their own rates),
per facility and per paying municipality, and records nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from domain.values import ZERO
from projections.budget import stay_segments
from projections.regulation import Regulation, regulate, revenue
from service.db import ledger_entries
from service.ledger import BudgetLedger
from service.read_models import BudgetReads


def _position_of(ledger: BudgetLedger, event_id: str) -> int:
    with ledger.engine.connect() as connection:
        return connection.execute(select(ledger_entries.c.position).where(ledger_entries.c.event_id == event_id)).scalar_one()


class RegulationReads:
    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.budgets = BudgetReads(ledger)
        self.limit_pct = ledger.settings.regulation_limit_pct
        self.years = ledger.settings.regulation_years

    def regulation(self, code: str, year: int, position: int, actual_costs: Decimal) -> Regulation:
        figures = self.budgets.facility_year(code, year, position)
        totals = figures.totals()
        earned = revenue(totals.stays.present_days, figures.basistakst, totals.stays.present_service)
        return regulate(earned, totals.frame + totals.activity, actual_costs, self.limit_pct)

    def closed(self, year: int, position: int) -> dict[str, dict[str, Any]]:
        """The facilities whose `year` is closed as of `position`, with their accounts."""
        return self.budgets.facts(position, "accounts", year)

    def facility_row(self, code: str, year: int, position: int, accounts: dict[str, Any]) -> dict[str, Any]:
        costs = Decimal(accounts["actual_costs"])
        now = self.regulation(code, year, position, costs)
        closed_at = _position_of(self.ledger, accounts["event_id"])
        then = self.regulation(code, year, closed_at, costs)
        target = year + self.years
        frame = self.budgets.facts(position, "frame", target, code).get(code)
        line = None if frame is None else next(
            (Decimal(l["amount"]) for l in frame["lines"] if l["category"] == "regulation"), None)
        return {
            "facility": code, "revenue": now.revenue, "cost_basis": now.cost_basis, "actual_costs": costs,
            "result": now.result, "carry_over": now.carry_over, "to_tariff": now.to_tariff,
            "target_year": target, "regulation_line": now.regulation_line,
            "post_closing_adjustments": now.result - then.result, "closed_at_position": closed_at,
            "result_at_closing": then.result,
            "applied": line is not None and line == now.regulation_line, "applied_line": line,
        }

    def year(self, year: int, position: int) -> list[dict[str, Any]]:
        return [self.facility_row(code, year, position, accounts)
                for code, accounts in sorted(self.closed(year, position).items())]

    def for_target_year(self, code: str, target: int, position: int) -> dict[str, Any] | None:
        """The regulation that belongs in `target`'s frame budget, if its year is closed."""
        accounts = self.closed(target - self.years, position).get(code)
        return None if accounts is None else self.facility_row(code, target - self.years, position, accounts)


def what_if(ledger: BudgetLedger, year: int, position: int, draft_rates: dict[int, Decimal]) -> dict[str, Any]:
    """Revenue of `year` per facility and per paying municipality, charged and with the draft."""
    from service.readers import AsOfReader

    reader = AsOfReader(ledger, position)
    budgets = BudgetReads(ledger)
    first, last = date(year, 1, 1), date(year, 12, 31)

    def draft_rate(level: int, day: date) -> Decimal | None:
        return draft_rates[level] if day.year == year else reader.rate_of(level, day)

    facilities: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    payers: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for code in budgets.facility_codes(position):
        frame = budgets.facts(position, "frame", year, code).get(code)
        rate = ZERO if frame is None else Decimal(frame["basistakst"])
        facilities[code]
        for stay in reader.stays_at(code):
            if not stay.touches(first, last):
                continue
            revisions = reader.revision_days(range(stay.move_in.year, year + 1))
            for index, rate_of in enumerate((reader.rate_of, draft_rate)):
                for segment in stay_segments(stay, rate_of, revisions if index == 0 else
                                             [d for d in revisions if d.year != year], until=last, since=first):
                    if not segment.present:
                        continue
                    amount = segment.days * (rate + (segment.rate or ZERO))
                    facilities[code][index] += amount
                    payers[segment.condition.paying_municipality][index] += amount

    def rows(name: str, sums: dict[str, list[Decimal]]) -> list[dict[str, Any]]:
        return [{name: key, "actual": actual, "what_if": draft, "difference": draft - actual}
                for key, (actual, draft) in sorted(sums.items())]

    return {"facilities": rows("facility", facilities), "paying_municipalities": rows("paying_municipality", payers)}


