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
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.values import round_money


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
