"""A facility-year's row follows the one declaration of the summed figures
(`projections.budget.StayFigures`): the table's columns (one per month and figure), what the
projection writes and what the reads decode are all derived from it, so a figure added to the
declaration reaches the table, the writes and the reads with nothing else to change
(docs/adr/0036, 0039)."""

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
from service.db import month_column, rm_facility_years, year_table
from service.facts import YEAR_ROWS, YearRows, _levels, levels_json
from service.projection import TABLES

KEY = {"facility": "F1", "year": 2026, "recorded_from": 7, "recorded_to": None}
NONE = (None,) * 12


def amounts(places: int = 2, limit: int = 10**15) -> st.SearchStrategy[Decimal]:
    return st.integers(-limit, limit).map(lambda n: Decimal(n).scaleb(-places))


def month_of(figures: tuple, month_type: type = BudgetMonth) -> st.SearchStrategy:
    values = [st.integers(0, 2**31 - 1) if f.kind is Kind.COUNT else amounts() for f in figures]
    levels = st.dictionaries(st.sampled_from(["1", "2", "5", "8", "S1", "S2"]), st.integers(1, 500)).map(
        lambda counts: tuple(sorted(counts.items())))
    return st.tuples(*values, levels).map(lambda row: month_type(*row))


def year_of(figures: tuple, month_type: type = BudgetMonth) -> st.SearchStrategy:
    """Twelve months, some without figures (None)."""
    return st.lists(st.none() | month_of(figures, month_type), min_size=12, max_size=12).map(tuple)


def round_trip(table, rows: YearRows, years: list) -> list:
    """Encode the years, write them to a table in SQLite, read them back and decode them."""
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [KEY | {"year": 2000 + i} | dict(zip(rows.columns, rows.encode(y)))
                                           for i, y in enumerate(years)])
        result = connection.execute(select(table).order_by(table.c.year))
        decode = rows.decoder(result.keys())
        return [decode(row) for row in result]


def test_levels_come_back_in_sorted_order_whatever_order_they_were_counted_in():
    counted = (("S2", 1), ("8", 3), ("1", 2), ("S1", 4), ("5", 1))
    assert _levels(f"[{levels_json(counted)},null]") == [tuple(sorted(counted)), None]


def test_no_citizens_is_an_empty_tuple_and_a_month_without_figures_is_none():
    assert _levels(f"[{levels_json(())},null]") == [(), None]


def test_the_table_has_a_column_per_month_and_declared_figure_in_its_order_typed_by_its_kind():
    names = [c.name for c in rm_facility_years.columns]
    assert names == ["facility", "year", "recorded_from", "recorded_to",
                     *(f"m{m:02d}_{f.name}" for m in range(1, 13) for f in FIGURES), "citizens_by_level"]
    for m in range(1, 13):
        for f in FIGURES:
            column = rm_facility_years.c[month_column(m, f.name)]
            assert isinstance(column.type, Integer if f.kind is Kind.COUNT else BigInteger)
    assert [f.name for f in FIGURES] == list(StayFigures.__dataclass_fields__)


def test_the_projection_writes_the_columns_the_declaration_gives():
    year = TABLES["year"]
    assert year.keys == ("facility", "year")
    assert year.values == YEAR_ROWS.columns
    assert year.columns == tuple(c.name for c in rm_facility_years.columns)
    assert TABLES["line"].keys == ("municipality", "year", "stay_id")


def test_a_year_row_is_stored_in_whole_hundredths_and_read_back():
    month = BudgetMonth(activity=Decimal("12345.67"), present_days=30, funded_days=31, unpriced_days=1, sold_days=5,
                        sold_service=Decimal("987.65"), present_service=Decimal("432.10"),
                        support_hours=Decimal("9.05"), citizens_by_level=(("2", 1), ("S1", 1)))
    year = (None,) * 3 + (month,) + (None,) * 8
    stored = dict(zip(YEAR_ROWS.columns, YEAR_ROWS.encode(year)))
    assert stored | {"m04_activity": 1234567, "m04_present_days": 30, "m04_funded_days": 31, "m04_unpriced_days": 1,
                     "m04_sold_days": 5, "m04_sold_service": 98765, "m04_present_service": 43210,
                     "m04_support_hours": 905, "m01_activity": 0, "m12_support_hours": 0,
                     "citizens_by_level": '[null,null,null,{"2":1,"S1":1},null,null,null,null,null,null,null,null]'
                     } == stored
    assert round_trip(rm_facility_years, YEAR_ROWS, [year]) == [year]
    found = round_trip(rm_facility_years, YEAR_ROWS, [(BudgetMonth(activity=Decimal("100")),) + (None,) * 11])
    assert str(found[0][0].activity) == "100.00"


def test_a_year_row_is_decoded_by_its_column_names_in_any_order():
    month = BudgetMonth(activity=Decimal("1.50"), present_days=3, funded_days=4, sold_days=2,
                        sold_service=Decimal("0.75"), present_service=Decimal("1.25"), support_hours=Decimal("7.00"),
                        citizens_by_level=(("3", 2),))
    year = (month, None, BudgetMonth(present_days=1)) + (None,) * 8 + (month,)
    columns = [*KEY, *YEAR_ROWS.columns]
    row = dict(zip(columns, [*KEY.values(), *YEAR_ROWS.encode(year)]))
    shuffled = random.Random(4).sample(columns, len(columns))
    assert YEAR_ROWS.decoder(shuffled)([row[c] for c in shuffled]) == year


def test_an_amount_with_more_than_two_decimals_is_refused():
    try:
        YEAR_ROWS.encode((BudgetMonth(activity=Decimal("0.005")),) + (None,) * 11)
    except ValueError as error:
        assert "0.005" in str(error)
    else:
        raise AssertionError("0.005 kr. was stored")


@given(st.lists(year_of(FIGURES), min_size=1, max_size=5))
def test_every_year_comes_back_as_it_went_in(years):
    found = round_trip(rm_facility_years, YEAR_ROWS, years)
    assert found == years
    assert [[m and m.summed() for m in y] for y in found] == [[m and m.summed() for m in y] for y in years]


@dataclass(frozen=True)
class WithOvertime(StayFigures):
    """The declaration with one more figure, as a new field of `StayFigures` would add it."""

    overtime_hours: Decimal = figure(Kind.HOURS)


@dataclass(frozen=True)
class OvertimeMonth(WithOvertime):
    citizens_by_level: tuple[tuple[str, int], ...] = ()


def test_a_figure_added_to_the_declaration_has_its_columns_its_write_and_its_read():
    rows = YearRows(OvertimeMonth)
    table = year_table(MetaData(), rows.figures)
    assert rows.figures[-1].name == "overtime_hours" and rows.figures[:-1] == FIGURES
    assert isinstance(table.c.m01_overtime_hours.type, BigInteger)
    assert isinstance(table.c.m12_overtime_hours.type, BigInteger)
    assert rows.columns[-2:] == ("m12_overtime_hours", "citizens_by_level")
    month = OvertimeMonth(activity=Decimal("10.00"), present_days=1, funded_days=1, present_service=Decimal("10.00"),
                          support_hours=Decimal("4.50"), overtime_hours=Decimal("2.25"), citizens_by_level=(("4", 1),))
    year = (None,) * 11 + (month,)
    assert rows.encode(year)[-2] == 225
    assert round_trip(table, rows, [year]) == [year]


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
