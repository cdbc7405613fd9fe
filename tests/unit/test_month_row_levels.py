"""A month row comes back as the figures that went in: citizens by level as JSON in
`BudgetMonth`'s order, and the columns in the order `budget_month` unpacks them."""

from decimal import Decimal

from projections.budget import BudgetMonth
from service.db import rm_budget_months
from service.projection import levels_json
from service.facts import MONTH_COLUMNS, _levels, budget_month


def test_levels_come_back_in_sorted_order_whatever_order_they_were_counted_in():
    counted = (("S2", 1), ("8", 3), ("1", 2), ("S1", 4), ("5", 1))
    assert _levels(levels_json(counted)) == tuple(sorted(counted))


def test_no_citizens_is_an_empty_tuple():
    assert _levels(levels_json(())) == ()


def test_a_month_row_is_unpacked_in_the_table_s_column_order():
    assert tuple(rm_budget_months.c.keys()) == MONTH_COLUMNS  # what budget_month's unpacking relies on
    row = ("F1", 2026, 4, 7, None, 1234567, 30, 31, 1, 5, 98765, 43210, 905, levels_json((("2", 1), ("S1", 1))))
    assert budget_month(row) == BudgetMonth(Decimal("12345.67"), 30, 31, 1, 5, Decimal("987.65"), Decimal("432.10"),
                                            Decimal("9.05"), (("2", 1), ("S1", 1)))
