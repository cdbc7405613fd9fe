"""The store's plan for a read of one facility-year does not depend on its statistics
(docs/adr/0019, 0039): the facility's year versions are found by the table's key on both stores,
never by OR-ing the partial indexes of the open and the closed versions, which PostgreSQL
chose when its last ANALYZE had seen no version closed as late as the read's position."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, text, update

from projections.budget import FIGURES
from service.db import month_column, rm_facility_years
from service.year_window import YearWindow

FACILITIES = [f"F-{n:02}" for n in range(40)]
YEAR = 2020


def _version(facility: str, recorded_from: int, recorded_to: int | None) -> dict[str, Any]:
    months = {month_column(month, figure.name): 0 for month in range(1, 13) for figure in FIGURES}
    for month in range(1, 13):
        months |= {month_column(month, "activity"): recorded_from * 100, month_column(month, "present_days"): 30,
                   month_column(month, "funded_days"): 30}
    return {"facility": facility, "year": YEAR, "recorded_from": recorded_from, "recorded_to": recorded_to,
            **months, "citizens_by_level": "[" + ",".join(["{}"] * 12) + "]"}


def _stale_statistics(engine: Any) -> None:
    """Twenty closed versions and an open one of every facility-year, analysed; then every
    open version closed at 300, later than any the statistics saw, and opened again."""
    with engine.begin() as connection:
        connection.execute(insert(rm_facility_years), [
            _version(code, n * 10, None if n == 20 else (n + 1) * 10) for code in FACILITIES for n in range(21)])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE rm_facility_years"))
    with engine.begin() as connection:
        connection.execute(update(rm_facility_years).where(rm_facility_years.c.recorded_to.is_(None))
                           .values(recorded_to=300))
        connection.execute(insert(rm_facility_years), [_version(code, 300, None) for code in FACILITIES])


def _plan(engine: Any, statement: str, parameters: Any) -> str:
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        return "\n".join(" ".join(str(column) for column in row)
                         for row in connection.exec_driver_sql(explain + statement, parameters))


def test_one_facility_year_is_read_by_the_key_whatever_the_statistics_saw(ledger):
    engine = ledger.engine
    _stale_statistics(engine)
    asked: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "rm_facility_years" in statement:
            asked.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        window = YearWindow(engine, YEAR, 250, 250, ["F-07"])
        months = window._months_at("F-07", 250)
    finally:
        event.remove(engine, "before_cursor_execute", remember)

    assert sorted(months) == list(range(1, 13))
    assert {month.activity for month in months.values()} == {200}  # the version open at 250: 200 to 300
    [(statement, parameters)] = asked
    plan = _plan(engine, statement, parameters)
    assert not any(index in plan for index in ("ix_rm_facility_years_open", "ix_rm_facility_years_closed",
                                               "ix_rm_facility_years_to")), plan
    key = "sqlite_autoindex_rm_facility_years_1" if engine.dialect.name == "sqlite" else "rm_facility_years_pkey"
    assert key in plan, plan


def test_every_facility_s_year_is_read_through_the_open_and_the_closed_versions_indexes(ledger):
    """The read of every facility at once (the central model, regulation) asks the open and the
    closed versions apart, each through its partial index (docs/adr/0015): the indexes serve
    those queries (PostgreSQL is kept from a sequential scan of this small table)."""
    engine = ledger.engine
    _stale_statistics(engine)
    asked: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "rm_facility_years" in statement:
            asked.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        window = YearWindow(engine, YEAR, 250, 250)
        months = window._months_at("F-07", 250)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert {month.activity for month in months.values()} == {200}
    assert len(asked) == 2
    plans = []
    for statement, parameters in asked:
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plans.append("\n".join(str(row[0]) for row in connection.exec_driver_sql("EXPLAIN " + statement,
                                                                                          parameters)))
        else:
            plans.append(_plan(engine, statement, parameters))
    assert "ix_rm_facility_years_open" in plans[0], plans[0]
    assert "ix_rm_facility_years_closed" in plans[1], plans[1]
