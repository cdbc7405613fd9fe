"""A facility-month's row follows the one declaration of the summed figures
(`projections.budget.StayFigures`): the table's columns, what the projection writes and what
the reads decode are all derived from it, so a figure added to the declaration reaches the
table, the writes and the reads with nothing else to change (docs/adr/0036)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Integer, MetaData, create_engine, insert, select

from projections.budget import (
    FIGURES,
    BudgetMonth,
    Kind,
    MonthFigures,
    StayFigures,
    StayMonth,
    figure,
    sum_months,
)
from service.db import month_table, rm_budget_months
from service.facts import MONTH_ROWS, MonthRows, _levels, levels_json
from service.projection import TABLES

KEY = {"facility": "F1", "year": 2026, "month": 4, "recorded_from": 7, "recorded_to": None}


def amounts(places: int = 2, limit: int = 10**15) -> st.SearchStrategy[Decimal]:
    return st.integers(-limit, limit).map(lambda n: Decimal(n).scaleb(-places))


def month_of(figures: tuple, month_type: type = BudgetMonth) -> st.SearchStrategy:
    values = [st.integers(0, 2**31 - 1) if f.kind is Kind.COUNT else amounts() for f in figures]
    levels = st.dictionaries(st.sampled_from(["1", "2", "5", "8", "S1", "S2"]), st.integers(1, 500)).map(
        lambda counts: tuple(sorted(counts.items())))
    return st.tuples(*values, levels).map(lambda row: month_type(*row))


def round_trip(table, rows: MonthRows, months: list) -> list:
    """Encode the months, write them to a table in SQLite, read them back and decode them."""
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [KEY | {"month": i + 1} | dict(zip(rows.columns, rows.encode(m)))
                                           for i, m in enumerate(months)])
        result = connection.execute(select(table).order_by(table.c.month))
        decode = rows.decoder(result.keys())
        return [decode(row) for row in result]


def test_levels_come_back_in_sorted_order_whatever_order_they_were_counted_in():
    counted = (("S2", 1), ("8", 3), ("1", 2), ("S1", 4), ("5", 1))
    assert _levels(levels_json(counted)) == tuple(sorted(counted))


def test_no_citizens_is_an_empty_tuple():
    assert _levels(levels_json(())) == ()


def test_the_table_has_a_column_per_declared_figure_in_its_order_typed_by_its_kind():
    names = [c.name for c in rm_budget_months.columns]
    assert names == ["facility", "year", "month", "recorded_from", "recorded_to", *(f.name for f in FIGURES),
                     "citizens_by_level"]
    for f in FIGURES:
        assert isinstance(rm_budget_months.c[f.name].type, Integer if f.kind is Kind.COUNT else BigInteger)
    assert [f.name for f in FIGURES] == list(StayFigures.__dataclass_fields__)


def test_the_projection_writes_the_columns_the_declaration_gives():
    month = TABLES["month"]
    assert month.keys == ("facility", "year", "month")
    assert month.values == MONTH_ROWS.columns == (*(f.name for f in FIGURES), "citizens_by_level")
    assert month.columns == tuple(c.name for c in rm_budget_months.columns)


def test_a_month_row_is_stored_in_whole_hundredths_and_read_back():
    month = BudgetMonth(activity=Decimal("12345.67"), present_days=30, funded_days=31, unpriced_days=1, sold_days=5,
                        sold_service=Decimal("987.65"), present_service=Decimal("432.10"),
                        support_hours=Decimal("9.05"), citizens_by_level=(("2", 1), ("S1", 1)))
    stored = dict(zip(MONTH_ROWS.columns, MONTH_ROWS.encode(month)))
    assert stored | {"activity": 1234567, "present_days": 30, "funded_days": 31, "unpriced_days": 1, "sold_days": 5,
                     "sold_service": 98765, "present_service": 43210, "support_hours": 905,
                     "citizens_by_level": '{"2":1,"S1":1}'} == stored
    assert round_trip(rm_budget_months, MONTH_ROWS, [month]) == [month]
    assert str(round_trip(rm_budget_months, MONTH_ROWS, [BudgetMonth(activity=Decimal("100"))])[0].activity) \
        == "100.00"


def test_a_month_row_is_decoded_by_its_column_names_in_any_order():
    month = BudgetMonth(activity=Decimal("1.50"), present_days=3, funded_days=4, sold_days=2,
                        sold_service=Decimal("0.75"), present_service=Decimal("1.25"), support_hours=Decimal("7.00"),
                        citizens_by_level=(("3", 2),))
    columns = [*KEY, *MONTH_ROWS.columns]
    row = dict(zip(columns, [*KEY.values(), *MONTH_ROWS.encode(month)]))
    shuffled = random.Random(4).sample(columns, len(columns))
    assert MONTH_ROWS.decoder(shuffled)([row[c] for c in shuffled]) == month


def test_an_amount_with_more_than_two_decimals_is_refused():
    try:
        MONTH_ROWS.encode(BudgetMonth(activity=Decimal("0.005")))
    except ValueError as error:
        assert "0.005" in str(error)
    else:
        raise AssertionError("0.005 kr. was stored")


@given(st.lists(month_of(FIGURES), min_size=1, max_size=12))
def test_every_month_comes_back_as_it_went_in(months):
    found = round_trip(rm_budget_months, MONTH_ROWS, months)
    assert found == months
    assert [m.summed() for m in found] == [m.summed() for m in months]  # the same values, Decimal and int


@dataclass(frozen=True)
class WithOvertime(StayFigures):
    """The declaration with one more figure, as a new field of `StayFigures` would add it."""

    overtime_hours: Decimal = figure(Kind.HOURS)


@dataclass(frozen=True)
class OvertimeMonth(WithOvertime):
    citizens_by_level: tuple[tuple[str, int], ...] = ()


def test_a_figure_added_to_the_declaration_has_its_column_its_write_and_its_read():
    rows = MonthRows(OvertimeMonth)
    table = month_table(MetaData(), rows.figures)
    assert rows.figures[-1].name == "overtime_hours" and rows.figures[:-1] == FIGURES
    assert isinstance(table.c.overtime_hours.type, BigInteger)
    assert rows.columns == (*(f.name for f in FIGURES), "overtime_hours", "citizens_by_level")
    month = OvertimeMonth(activity=Decimal("10.00"), present_days=1, funded_days=1, present_service=Decimal("10.00"),
                          support_hours=Decimal("4.50"), overtime_hours=Decimal("2.25"), citizens_by_level=(("4", 1),))
    assert rows.encode(month)[-2] == 225
    assert round_trip(table, rows, [month]) == [month]


@given(st.lists(month_of(FIGURES), min_size=1, max_size=12))
def test_the_sums_follow_the_declaration(months):
    stays = [StayMonth(*m.summed()) for m in months]
    total = BudgetMonth()
    for stay in stays:
        total = total.plus(stay)
    for f in FIGURES:
        assert getattr(total, f.name) == sum((getattr(m, f.name) for m in months), f.kind.zero)
    net = BudgetMonth.net([(s, 1) for s in stays] + [(s, -1) for s in stays])
    assert net is None
    figures = [MonthFigures(month=i + 1, stays=m) for i, m in enumerate(months)]
    assert sum_months(figures, 0, figures[-1]).stays.summed() == total.summed()
