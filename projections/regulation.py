"""Regulation of a closed year (efterregulering, domain §4.9), as pure functions.

- revenue(Y) = the present days of Y charged basistakst(Y) + the day's service rate, over
  every stay of the facility, whoever pays;
- cost basis(Y) = frame budget(Y) + activity budget(Y);
- result(Y) = revenue(Y) − actual costs(Y) (positive: a surplus);
- carry-over = the result limited to ± limit % of the cost basis (the limit rounded to øre),
  kept in the facility's next year;
- to tariff = result − carry-over, entering the tariff of year Y + years as a `regulation`
  frame line of −(to tariff): a deficit raises the base rate, a surplus lowers it;
- post-closing adjustments = the result now − the result when the accounts were recorded.

The what-if replays revenue(Y) with a draft schedule: the present days of Y grouped by what
prices them (`day_groups`: paying municipality, level, special tariff and service rate), each
group charged basistakst(Y) + its rate and, in the draft, basistakst(Y) + the draft's rate of
its level (a special tariff keeps its own rate unless the draft gives its code one; a day
without a level keeps its rate). The projector posts the same groups as they change
(`rm_day_postings`, docs/adr/0047), so a year's groups as of a point are a sum.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from domain.values import ZERO, round_money
from projections.budget import Segment

DayGroup = tuple[int, str, int, str, Decimal]
"""(year, paying municipality, level (0: none, and on a special tariff's day), special tariff
code ("": none), service rate (0.00 for a day without one, as it is charged))"""
PricedGroup = tuple[str, str, int, str, Decimal]
"""(facility, paying municipality, level, special tariff code, service rate): a year's
`DayGroup` of one facility."""


@dataclass(frozen=True)
class Regulation:
    revenue: Decimal
    cost_basis: Decimal
    actual_costs: Decimal
    result: Decimal
    carry_over: Decimal
    to_tariff: Decimal

    @property
    def regulation_line(self) -> Decimal:
        """The `regulation` line the target year's frame budget should carry."""
        return -self.to_tariff


def revenue(present_days: int, basistakst: Decimal, present_service: Decimal) -> Decimal:
    return present_days * basistakst + present_service


def regulate(revenue: Decimal, cost_basis: Decimal, actual_costs: Decimal, limit_pct: Decimal) -> Regulation:
    result = revenue - actual_costs
    limit = round_money(abs(cost_basis) * limit_pct / 100)
    carry_over = max(-limit, min(result, limit))
    return Regulation(revenue, cost_basis, actual_costs, result, carry_over, result - carry_over)


def day_groups(segments: Iterable[Segment]) -> Counter[DayGroup]:
    """The present days of a stay's segments (`projections.budget.stay_segments`) by year and
    by what prices them."""
    groups: Counter[DayGroup] = Counter()
    for segment in segments:
        if not segment.present:
            continue
        condition = segment.condition
        special = condition.special_tariff
        level = 0 if special is not None or condition.level is None else condition.level
        groups[segment.start.year, condition.paying_municipality, level, special or "",
               ZERO if segment.rate is None else segment.rate] += segment.days
    return groups


def draft_rate(level: int, special: str, rate: Decimal, draft_rates: Mapping[int, Decimal],
               draft_special: Mapping[str, Decimal]) -> Decimal:
    """A group's service rate in the draft: a special tariff's draft rate (else its own), a
    level's draft rate, or, for a day without a level, its own."""
    if special:
        return draft_special.get(special, rate)
    return draft_rates[level] if level else rate


def what_if_sums(groups: Mapping[PricedGroup, int], basistakst: Mapping[str, Decimal],
                 draft_rates: Mapping[int, Decimal], draft_special: Mapping[str, Decimal]
                 ) -> tuple[dict[str, list[Decimal]], dict[str, list[Decimal]]]:
    """Revenue charged and with the draft, [actual, what-if], by facility and by paying
    municipality: each group's days times basistakst (0.00 for a facility without a frame)
    plus its rate, summed once."""
    facilities: dict[str, list[Decimal]] = {}
    payers: dict[str, list[Decimal]] = {}
    for (code, payer, level, special, rate), days in groups.items():
        if not days:
            continue
        basis = basistakst.get(code, ZERO)
        actual = days * (basis + rate)
        drafted = days * (basis + draft_rate(level, special, rate, draft_rates, draft_special))
        for sums in (facilities.setdefault(code, [ZERO, ZERO]), payers.setdefault(payer, [ZERO, ZERO])):
            sums[0] += actual
            sums[1] += drafted
    return facilities, payers
