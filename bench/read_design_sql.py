"""The rows of bench/read_design.py in a store, and their reads (docs/adr/0038).

Tables (all prefixed `rd_`; days are `date.toordinal()` integers, amounts whole øre, hours
hundredths, a version valid while `recorded_from <= N < recorded_to`, NEVER while valid):

- option A: `rd_segments` (a stay's rate segments) and `rd_rates` (each level's rate periods,
  the days without a schedule at NULL), `rd_calendar` (the months);
- option A2: `rd_segments_y`, the same segments cut at year ends and kept by year: an open
  segment's piece belongs to the latest year any segment has reached, a later year reads
  those open pieces;
- option B: `rd_b_months` (facility-months below the frontier), `rd_b_frontier` (the first
  day of the facility's frontier month), `rd_b_tail` (groups of settled stays from it on).
"""

from __future__ import annotations

import bisect
import json
import random
import re
import sqlite3
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any, Iterator

NEVER = 2**62
OPEN = date(9999, 12, 31).toordinal()

SCHEMA = {
    "rd_segments": "stay_id TEXT, facility TEXT, payer TEXT, sold SMALLINT, level SMALLINT, level_key TEXT, "
                   "special_rate BIGINT, present SMALLINT, hours BIGINT, first_day INTEGER, last_day INTEGER, "
                   "recorded_from BIGINT, recorded_to BIGINT",
    "rd_segments_y": "year INTEGER, stay_id TEXT, facility TEXT, payer TEXT, sold SMALLINT, level SMALLINT, "
                     "level_key TEXT, special_rate BIGINT, present SMALLINT, hours BIGINT, first_day INTEGER, "
                     "last_day INTEGER, recorded_from BIGINT, recorded_to BIGINT",
    "rd_rates": "level SMALLINT, year INTEGER, first_day INTEGER, last_day INTEGER, rate BIGINT, recorded_from BIGINT, "
                "recorded_to BIGINT",
    "rd_calendar": "year INTEGER, month INTEGER, first_day INTEGER, last_day INTEGER",
    "rd_b_months": "facility TEXT, year INTEGER, month INTEGER, activity BIGINT, present_days INTEGER, "
                   "funded_days INTEGER, unpriced_days INTEGER, sold_days INTEGER, sold_service BIGINT, "
                   "present_service BIGINT, support_hours BIGINT, citizens_by_level TEXT, recorded_from BIGINT, "
                   "recorded_to BIGINT",
    "rd_b_frontier": "facility TEXT, first_day INTEGER, recorded_from BIGINT, recorded_to BIGINT",
    "rd_b_tail": "facility TEXT, level SMALLINT, level_key TEXT, special_rate BIGINT, sold SMALLINT, "
                 "present SMALLINT, until_day INTEGER, count INTEGER, hours BIGINT, recorded_from BIGINT, "
                 "recorded_to BIGINT",
}
INDEXES = [
    "CREATE INDEX rd_segments_facility ON rd_segments (facility, first_day, last_day, recorded_from, recorded_to)",
    "CREATE INDEX rd_segments_days ON rd_segments (first_day, last_day, recorded_from, recorded_to)",
    "CREATE INDEX rd_segments_y_year ON rd_segments_y (year, facility, recorded_from, recorded_to)",
    "CREATE INDEX rd_rates_level ON rd_rates (level, year, recorded_from)",
    "CREATE INDEX rd_b_months_key ON rd_b_months (facility, year, month, recorded_from)",
    "CREATE INDEX rd_b_months_year ON rd_b_months (year, recorded_to, recorded_from)",
    "CREATE INDEX rd_b_frontier_key ON rd_b_frontier (facility, recorded_from)",
    "CREATE INDEX rd_b_tail_key ON rd_b_tail (facility, recorded_from, recorded_to)",
]
FILES = {"rd_segments": "a_segments.tsv", "rd_b_months": "b_months.tsv",
         "rd_b_frontier": "b_frontier.tsv", "rd_b_tail": "b_tail.tsv"}


# Stores ---------------------------------------------------------------------------------------


class Store:
    def __init__(self, target: str) -> None:
        self.target = target
        if target.startswith("sqlite:"):
            self.kind = "sqlite"
            self.path = target.split("///", 1)[1]
            self.connection: Any = sqlite3.connect(self.path)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA cache_size=-200000")
        else:
            import psycopg

            self.kind = "postgresql"
            url, _, self.schema = target.partition("#")
            self.connection = psycopg.connect(url, autocommit=True)
            self.connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            self.connection.execute(f'SET search_path TO "{self.schema}"')

    def sql(self, text: str) -> str:
        if self.kind == "sqlite":
            return text.replace("LEAST(", "min(").replace("GREATEST(", "max(")
        return re.sub(r":([a-z_0-9]+)", r"%(\1)s", text)

    def query(self, text: str, **params: Any) -> list[tuple[Any, ...]]:
        return list(self.connection.execute(self.sql(text), params).fetchall())

    def execute(self, text: str) -> None:
        self.connection.execute(text)

    def commit(self) -> None:
        if self.kind == "sqlite":
            self.connection.commit()

    def load(self, table: str, rows: Iterator[list[Any]], columns: int | None = None) -> int:
        count = 0
        if self.kind == "sqlite":
            columns = columns or len(SCHEMA[table].split(","))
            insert = f"INSERT INTO {table} VALUES ({','.join('?' * columns)})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == 50_000:
                    self.connection.executemany(insert, batch)
                    count += len(batch)
                    batch = []
            self.connection.executemany(insert, batch)
            self.connection.commit()
            return count + len(batch)
        with self.connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count


def tsv(path: Path) -> Iterator[list[Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield [None if f == "\\N" else int(f) if f.lstrip("-").isdigit() else f
                   for f in line.rstrip("\n").split("\t")]


class CurrentYear:
    """The latest year any segment has reached, by position (from the derivation)."""

    def __init__(self, advances: list[list[int]]) -> None:
        self.positions = [p for p, _ in advances]
        self.years = [y for _, y in advances]

    def at(self, position: int) -> int:
        i = bisect.bisect_right(self.positions, position) - 1
        return self.years[max(i, 0)]

    def advances_between(self, low: int, high: int) -> list[tuple[int, int]]:
        """(position, year) of the advances in (low, high)."""
        i = bisect.bisect_right(self.positions, low)
        out = []
        while i < len(self.positions) and self.positions[i] < high:
            out.append((self.positions[i], self.years[i]))
            i += 1
        return out


def year_pieces(rows: Iterator[list[Any]], current: CurrentYear) -> Iterator[list[Any]]:
    """Option A2: each segment version cut at year ends; an open one's piece belongs to the
    current year and is closed (and the next year's opened) when the current year advances."""
    for row in rows:
        *segment, first, last, recorded_from, recorded_to = row
        y0 = date.fromordinal(first).year
        if last != OPEN:
            for year in range(y0, date.fromordinal(last).year + 1):
                yield [year, *segment, max(first, date(year, 1, 1).toordinal()),
                       min(last, date(year, 12, 31).toordinal()), recorded_from, recorded_to]
            continue
        year = current.at(recorded_from)
        for y in range(y0, year):
            yield [y, *segment, max(first, date(y, 1, 1).toordinal()), date(y, 12, 31).toordinal(),
                   recorded_from, recorded_to]
        since = recorded_from
        for position, advanced in current.advances_between(recorded_from, recorded_to):
            if advanced <= year:
                continue
            start = max(first, date(year, 1, 1).toordinal())
            yield [year, *segment, start, OPEN, since, position]
            yield [year, *segment, start, date(year, 12, 31).toordinal(), position, recorded_to]
            for y in range(year + 1, advanced):
                yield [y, *segment, date(y, 1, 1).toordinal(), date(y, 12, 31).toordinal(), position, recorded_to]
            year, since = advanced, position
        yield [year, *segment, max(first, date(year, 1, 1).toordinal()), OPEN, since, recorded_to]


def rate_pieces(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """Rate periods cut at year ends (to 2100), so that a year joins its rates by equality."""
    for level, first, last, rate, recorded_from, recorded_to in rows:
        for year in range(date.fromordinal(first).year, min(date.fromordinal(last).year, 2100) + 1):
            yield [level, year, max(first, date(year, 1, 1).toordinal()), min(last, date(year, 12, 31).toordinal()),
                   rate, recorded_from, recorded_to]


def load(directory: Path, target: str) -> dict[str, Any]:
    store = Store(target)
    figures: dict[str, Any] = {}
    for table, columns in SCHEMA.items():
        store.execute(f"DROP TABLE IF EXISTS {table}")
        store.execute(f"CREATE TABLE {table} ({columns})")
    store.commit()
    current = CurrentYear(json.loads((directory / "year_advances.json").read_text()))
    for table, name in FILES.items():
        began = time.perf_counter()
        figures[table] = {"rows": store.load(table, tsv(directory / name)),
                          "seconds": round(time.perf_counter() - began, 1)}
    figures["rd_rates"] = {"rows": store.load("rd_rates", rate_pieces(tsv(directory / "rates.tsv")))}
    began = time.perf_counter()
    figures["rd_segments_y"] = {"rows": store.load("rd_segments_y", year_pieces(tsv(directory / FILES["rd_segments"]),
                                                                                  current)),
                                "seconds": round(time.perf_counter() - began, 1)}
    store.load("rd_calendar", ([y, m, date(y, m, 1).toordinal(),
                                (date(y + m // 12, m % 12 + 1, 1).toordinal() - 1)] for y in range(2000, 2101)
                               for m in range(1, 13)))
    began = time.perf_counter()
    for index in INDEXES:
        store.execute(index)
    store.execute("ANALYZE")
    store.commit()
    figures["indexes_seconds"] = round(time.perf_counter() - began, 1)
    figures["bytes"] = sizes(store)
    print(json.dumps(figures, indent=1))
    (directory / f"load-{store.kind}.json").write_text(json.dumps(figures, indent=1))
    return figures


def sizes(store: Store) -> dict[str, int]:
    if store.kind == "postgresql":
        return {t: int(store.query(f"SELECT pg_total_relation_size('{t}')")[0][0]) for t in SCHEMA}
    try:
        rows = store.query("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        return {str(n): int(s) for n, s in rows}
    except sqlite3.Error:
        return {}


# Reads ----------------------------------------------------------------------------------------

SUMS = """SUM(CASE WHEN rate IS NULL THEN 0 ELSE n * d * rate END),
  SUM(present * n * d), SUM(n * d), SUM(CASE WHEN rate IS NULL THEN n * d ELSE 0 END),
  SUM(present * sold * n * d), SUM(CASE WHEN rate IS NULL THEN 0 ELSE present * sold * n * d * rate END),
  SUM(CASE WHEN rate IS NULL THEN 0 ELSE present * n * d * rate END), SUM(present * d * hours)"""

A_FIGURES = """
WITH seg AS (
  SELECT s.facility, c.month, s.level, s.special_rate, s.present, s.sold, s.hours,
         GREATEST(s.first_day, c.first_day) AS a, LEAST(s.last_day, c.last_day) AS b
  FROM {table} s JOIN rd_calendar c ON c.year = :year AND s.first_day <= c.last_day AND s.last_day >= c.first_day
  WHERE {where} AND s.recorded_from <= :n AND s.recorded_to > :n
), piece AS (
  SELECT seg.facility, seg.month, seg.present, seg.sold, seg.hours, 1 AS n,
         LEAST(seg.b, COALESCE(r.last_day, seg.b)) - GREATEST(seg.a, COALESCE(r.first_day, seg.a)) + 1 AS d,
         COALESCE(seg.special_rate, r.rate) AS rate
  FROM seg LEFT JOIN rd_rates r ON r.level = seg.level AND r.year = :year
       AND r.first_day <= seg.b AND r.last_day >= seg.a
       AND r.recorded_from <= :n AND r.recorded_to > :n
)
SELECT facility, month, {sums} FROM piece GROUP BY facility, month"""

A_YEAR = """
WITH seg AS (
  SELECT s.facility, s.level, s.special_rate, s.present, s.sold, s.hours,
         GREATEST(s.first_day, :first) AS a, LEAST(s.last_day, :last) AS b
  FROM {table} s
  WHERE {where} AND s.recorded_from <= :n AND s.recorded_to > :n AND s.first_day <= :last AND s.last_day >= :first
), piece AS (
  SELECT seg.facility, seg.present, seg.sold, seg.hours, 1 AS n,
         LEAST(seg.b, COALESCE(r.last_day, seg.b)) - GREATEST(seg.a, COALESCE(r.first_day, seg.a)) + 1 AS d,
         COALESCE(seg.special_rate, r.rate) AS rate
  FROM seg LEFT JOIN rd_rates r ON r.level = seg.level AND r.year = :year
       AND r.first_day <= seg.b AND r.last_day >= seg.a AND r.recorded_from <= :n AND r.recorded_to > :n
)
SELECT facility, 0, {sums} FROM piece GROUP BY facility"""

A_LEVELS = """
SELECT s.facility, c.month, s.level_key, COUNT(*)
FROM {table} s JOIN rd_calendar c ON c.year = :year AND c.month >= :from_month
     AND s.first_day <= c.last_day AND s.last_day >= c.last_day
WHERE {where} AND s.present = 1 AND s.recorded_from <= :n AND s.recorded_to > :n
GROUP BY s.facility, c.month, s.level_key"""

B_MONTHS = """
SELECT m.facility, m.month, m.activity, m.present_days, m.funded_days, m.unpriced_days, m.sold_days,
       m.sold_service, m.present_service, m.support_hours, m.citizens_by_level
FROM rd_b_months m JOIN rd_b_frontier f ON f.facility = m.facility AND f.recorded_from <= :n AND f.recorded_to > :n
JOIN rd_calendar c ON c.year = m.year AND c.month = m.month AND c.first_day < f.first_day
WHERE {where} AND m.year = :year AND m.recorded_from <= :n AND m.recorded_to > :n"""

B_TAIL = """
WITH grp AS (
  SELECT t.facility, c.month, t.level, t.special_rate, t.present, t.sold, t.count AS n, t.hours,
         c.first_day AS a, LEAST(t.until_day, c.last_day) AS b
  FROM rd_b_tail t JOIN rd_b_frontier f ON f.facility = t.facility AND f.recorded_from <= :n AND f.recorded_to > :n
  JOIN rd_calendar c ON c.year = :year AND c.first_day >= f.first_day AND t.until_day >= c.first_day
  WHERE {where} AND t.recorded_from <= :n AND t.recorded_to > :n
), piece AS (
  SELECT grp.facility, grp.month, grp.present, grp.sold, grp.hours, grp.n,
         LEAST(grp.b, COALESCE(r.last_day, grp.b)) - GREATEST(grp.a, COALESCE(r.first_day, grp.a)) + 1 AS d,
         COALESCE(grp.special_rate, r.rate) AS rate
  FROM grp LEFT JOIN rd_rates r ON r.level = grp.level AND r.year = :year
       AND r.first_day <= grp.b AND r.last_day >= grp.a
       AND r.recorded_from <= :n AND r.recorded_to > :n
)
SELECT facility, month, {sums} FROM piece GROUP BY facility, month"""

A_EXPLAIN = """
WITH changes AS (
  SELECT s.level, s.special_rate, s.first_day, s.last_day, s.recorded_from AS p, s.recorded_from AS q, 1 AS sign
  FROM {table} s WHERE {where} AND s.facility = :facility AND s.recorded_from > :n1 AND s.recorded_from <= :n2
  UNION ALL
  SELECT s.level, s.special_rate, s.first_day, s.last_day, s.recorded_to, s.recorded_to - 1, -1
  FROM {table} s WHERE {where} AND s.facility = :facility AND s.recorded_to > :n1 AND s.recorded_to <= :n2
), seg AS (
  SELECT p, q, sign, level, special_rate, GREATEST(first_day, :first) AS a, LEAST(last_day, :last) AS b
  FROM changes WHERE first_day <= :last AND last_day >= :first
), piece AS (
  SELECT seg.p, seg.sign,
         LEAST(seg.b, COALESCE(r.last_day, seg.b)) - GREATEST(seg.a, COALESCE(r.first_day, seg.a)) + 1 AS d,
         COALESCE(seg.special_rate, r.rate) AS rate
  FROM seg LEFT JOIN rd_rates r ON r.level = seg.level AND r.year = :year
       AND r.first_day <= seg.b AND r.last_day >= seg.a AND r.recorded_from <= seg.q AND r.recorded_to > seg.q
)
SELECT p, SUM(CASE WHEN rate IS NULL THEN 0 ELSE sign * d * rate END) FROM piece GROUP BY p
HAVING SUM(CASE WHEN rate IS NULL THEN 0 ELSE sign * d * rate END) <> 0 ORDER BY p"""

B_YEAR_MONTHS = """
SELECT m.facility, 0, SUM(m.activity), SUM(m.present_days), SUM(m.funded_days), SUM(m.unpriced_days),
       SUM(m.sold_days), SUM(m.sold_service), SUM(m.present_service), SUM(m.support_hours),
       MAX(CASE WHEN m.month = 12 THEN m.citizens_by_level END)
FROM rd_b_months m JOIN rd_b_frontier f ON f.facility = m.facility AND f.recorded_from <= :n AND f.recorded_to > :n
JOIN rd_calendar c ON c.year = m.year AND c.month = m.month AND c.first_day < f.first_day
WHERE m.year = :year AND m.recorded_from <= :n AND m.recorded_to > :n
GROUP BY m.facility"""

B_YEAR_TAIL = """
WITH grp AS (
  SELECT t.facility, t.level, t.special_rate, t.present, t.sold, t.count AS n, t.hours,
         GREATEST(f.first_day, :first) AS a, LEAST(t.until_day, :last) AS b
  FROM rd_b_tail t JOIN rd_b_frontier f ON f.facility = t.facility AND f.recorded_from <= :n AND f.recorded_to > :n
  WHERE t.recorded_from <= :n AND t.recorded_to > :n AND f.first_day <= :last AND t.until_day >= :first
    AND t.until_day >= f.first_day
), piece AS (
  SELECT grp.facility, grp.present, grp.sold, grp.hours, grp.n,
         LEAST(grp.b, COALESCE(r.last_day, grp.b)) - GREATEST(grp.a, COALESCE(r.first_day, grp.a)) + 1 AS d,
         COALESCE(grp.special_rate, r.rate) AS rate
  FROM grp LEFT JOIN rd_rates r ON r.level = grp.level AND r.year = :year
       AND r.first_day <= grp.b AND r.last_day >= grp.a AND r.recorded_from <= :n AND r.recorded_to > :n
)
SELECT facility, 0, {sums} FROM piece GROUP BY facility"""

B_LEVELS = """
SELECT t.facility, t.level_key, SUM(t.count)
FROM rd_b_tail t
WHERE {where} AND t.present = 1 AND t.recorded_from <= :n AND t.recorded_to > :n
GROUP BY t.facility, t.level_key"""

B_FRONTIER = """SELECT f.facility, f.first_day FROM rd_b_frontier f
WHERE {where} AND f.recorded_from <= :n AND f.recorded_to > :n"""


def _assemble(figures: list[tuple[Any, ...]], levels: dict[tuple[str, int], dict[str, int]]
              ) -> dict[str, dict[int, list[Any]]]:
    out: dict[str, dict[int, list[Any]]] = {}
    for facility, month, *sums in figures:
        out.setdefault(facility, {})[month] = [int(x or 0) for x in sums] + [levels.get((facility, month), {})]
    for (facility, month), counts in levels.items():
        out.setdefault(facility, {}).setdefault(month, [0] * 8 + [counts])
    return out


class Reads:
    def __init__(self, store: Store, directory: Path) -> None:
        self.store = store
        self.current = CurrentYear(json.loads((directory / "year_advances.json").read_text()))

    def a(self, year: int, n: int, facility: str | None, pieces: bool = False,
          level_months: int = 1) -> dict[str, dict[int, list[Any]]]:
        """Option A (A2 with `pieces`): the stays' figures by facility and month; citizens by
        level at the ends of the months from `level_months` on."""
        params: dict[str, Any] = {"year": year, "n": n, "facility": facility, "from_month": level_months,
                                  "first": date(year, 1, 1).toordinal(), "last": date(year, 12, 31).toordinal()}
        where = [] if facility is None else ["s.facility = :facility"]
        if pieces:
            table = "rd_segments_y"
            current = self.current.at(n)
            if year <= current:
                where.append("s.year = :year")
            else:
                where.append("s.year = :current AND s.last_day = :open")
                params.update(current=current, open=OPEN)
        else:
            table = "rd_segments"
            where.append("s.first_day <= :last AND s.last_day >= :first")
        condition = " AND ".join(where)
        figures = self.store.query(A_FIGURES.format(table=table, where=condition, sums=SUMS), **params)
        levels: dict[tuple[str, int], dict[str, int]] = {}
        for f, month, key, count in self.store.query(A_LEVELS.format(table=table, where=condition), **params):
            levels.setdefault((f, month), {})[key] = int(count)
        return _assemble(figures, levels)

    def a_central(self, year: int, n: int, pieces: bool = False) -> dict[str, list[Any]]:
        """Option A (A2): every facility's year totals and citizens by level at the year's end."""
        params: dict[str, Any] = {"year": year, "n": n, "from_month": 12,
                                  "first": date(year, 1, 1).toordinal(), "last": date(year, 12, 31).toordinal()}
        if pieces:
            table, current = "rd_segments_y", self.current.at(n)
            if year <= current:
                where = "s.year = :year"
            else:
                where = "s.year = :current AND s.last_day = :open"
                params.update(current=current, open=OPEN)
        else:
            table, where = "rd_segments", "TRUE"
        out = {f: [int(x or 0) for x in sums] + [{}]
               for f, _, *sums in self.store.query(A_YEAR.format(table=table, where=where, sums=SUMS), **params)}
        levels_where = where if pieces else "s.first_day <= :last AND s.last_day >= :first"
        for f, _, key, count in self.store.query(A_LEVELS.format(table=table, where=levels_where), **params):
            out.setdefault(f, [0] * 8 + [{}])[8][key] = int(count)
        return out

    def a_explain(self, year: int, facility: str, n1: int, n2: int, pieces: bool = False) -> list[tuple[int, int]]:
        """Option A (A2): the positions in (n1, n2] at which the facility-year's activity moved,
        and by how much (øre), from the segment versions that begin or end there."""
        params = {"year": year, "facility": facility, "n1": n1, "n2": n2,
                  "first": date(year, 1, 1).toordinal(), "last": date(year, 12, 31).toordinal()}
        table, where = ("rd_segments_y", "s.year = :year") if pieces else (
            "rd_segments", "s.first_day <= :last AND s.last_day >= :first")
        return [(int(p), int(d)) for p, d in self.store.query(A_EXPLAIN.format(table=table, where=where), **params)]

    def b_central(self, year: int, n: int) -> dict[str, list[Any]]:
        """Option B: every facility's year totals: its month rows below the frontier, its tail after."""
        params = {"year": year, "n": n, "first": date(year, 1, 1).toordinal(), "last": date(year, 12, 31).toordinal()}
        out: dict[str, list[Any]] = {}
        for f, _, *sums, levels in self.store.query(B_YEAR_MONTHS, **params):
            out[f] = [int(x or 0) for x in sums] + [json.loads(levels) if levels else {}]
        for f, _, *sums in self.store.query(B_YEAR_TAIL.format(sums=SUMS), **params):
            held = out.setdefault(f, [0] * 8 + [{}])
            out[f] = [a + int(b or 0) for a, b in zip(held[:8], sums)] + [held[8]]
        frontier = {f: day for f, day in self.store.query(B_FRONTIER.format(where="TRUE"), **params)}
        for f, key, count in self.store.query(B_LEVELS.format(where="TRUE"), **params):
            if frontier.get(f, OPEN) <= date(year, 12, 1).toordinal():
                out.setdefault(f, [0] * 8 + [{}])[8][key] = int(count)
        return out

    def b(self, year: int, n: int, facility: str | None, level_months: int = 1) -> dict[str, dict[int, list[Any]]]:
        """Option B: month rows below the frontier, the tail from it on."""
        params = {"year": year, "n": n, "facility": facility}
        out: dict[str, dict[int, list[Any]]] = {}
        months = self.store.query(B_MONTHS.format(where="TRUE" if facility is None else "m.facility = :facility"),
                                  **params)
        for f, month, *values in months:
            out.setdefault(f, {})[month] = [int(v) for v in values[:8]] + [json.loads(values[8])]
        where = "TRUE" if facility is None else "t.facility = :facility"
        frontier = {f: day for f, day in self.store.query(
            B_FRONTIER.format(where="TRUE" if facility is None else "f.facility = :facility"), **params)}
        tail = self.store.query(B_TAIL.format(where=where, sums=SUMS), **params)
        levels: dict[str, dict[str, int]] = {}
        for f, key, count in self.store.query(B_LEVELS.format(where=where), **params):
            levels.setdefault(f, {})[key] = int(count)
        for f, month, *sums in tail:
            out.setdefault(f, {})[month] = [int(x or 0) for x in sums] + [levels.get(f, {})]
        for f, first in frontier.items():
            if levels.get(f):  # every month from the frontier on has the tail's citizens at its end
                for month in range(1, 13):
                    if date(year, month, 1).toordinal() >= first and month >= level_months:
                        out.setdefault(f, {}).setdefault(month, [0] * 8 + [levels[f]])
        return out


def compare(expected: dict[str, Any], got: dict[int, list[Any]]) -> list[str]:
    problems = []
    want = {int(m): v for m, v in expected["months"].items()}
    for month in sorted(set(want) | set(got)):
        w, g = want.get(month), got.get(month)
        w_values = (list(w[:8]) + [json.loads(w[8])]) if w else [0] * 8 + [{}]
        g_values = g if g else [0] * 8 + [{}]
        if w_values != g_values:
            problems.append(f"{expected['facility']} {expected['year']}-{month:02d} at {expected['position']}: "
                            f"expected {w_values}, got {g_values}")
    return problems


def _by_point(checks: list[dict[str, Any]]) -> dict[tuple[int, int], list[dict[str, Any]]]:
    groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for check in checks:
        groups.setdefault((check["position"], check["year"]), []).append(check)
    return groups


def year_totals(check: dict[str, Any]) -> list[Any]:
    sums = [0] * 8
    for values in check["months"].values():
        sums = [a + b for a, b in zip(sums, values[:8])]
    december = check["months"].get("12")
    return sums + [json.loads(december[8]) if december else {}]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def reads(directory: Path, target: str, samples: int = 200, central: int = 20, seed: int = 1,
          options: tuple[str, ...] = ("A", "A2", "B")) -> dict[str, Any]:
    store = Store(target)
    reader = Reads(store, directory)
    stats = json.loads((directory / "stats.json").read_text())
    checks = json.loads((directory / "expected.json").read_text())
    last = stats["last_position"]
    readers = {"A": lambda y, n, f, lm=1: reader.a(y, n, f, level_months=lm),
               "A2": lambda y, n, f, lm=1: reader.a(y, n, f, pieces=True, level_months=lm),
               "B": lambda y, n, f, lm=1: reader.b(y, n, f, level_months=lm)}
    result: dict[str, Any] = {"store": store.kind, "samples": samples, "central": central}
    for name in options:
        problems = []
        for check in checks:
            got = readers[name](check["year"], check["position"], check["facility"]).get(check["facility"], {})
            problems += compare(check, got)
        result[f"{name}_checked"] = len(checks)
        result[f"{name}_problems"] = problems[:10]
        result[f"{name}_problem_count"] = len(problems)
        print(f"{name}: {len(checks)} facility-years checked against stay_months, {len(problems)} differences",
              flush=True)
    facilities = [f for (f,) in store.query("SELECT DISTINCT facility FROM rd_b_frontier")]
    first = min(p for (p,) in store.query("SELECT MIN(recorded_from) FROM rd_b_frontier"))
    rng = random.Random(seed)
    points = [(rng.choice(facilities), rng.randint(2017, 2026), rng.randint(first, last)) for _ in range(samples)]
    central_points = [(rng.randint(2017, 2026), rng.randint(first, last)) for _ in range(central)]
    centrals = {"A": lambda y, n: reader.a_central(y, n), "A2": lambda y, n: reader.a_central(y, n, pieces=True),
                "B": lambda y, n: reader.b_central(y, n)}
    for name in options:
        problems = []
        for (position, year), group in sorted(_by_point(checks).items()):
            totals = centrals[name](year, position)
            for check in group:
                want = year_totals(check)
                got = totals.get(check["facility"], [0] * 8 + [{}])
                if want != got:
                    problems.append(f"central {check['facility']} {year} at {position}: expected {want}, got {got}")
        result[f"{name}_central_problem_count"] = len(problems)
        result[f"{name}_central_problems"] = problems[:5]
        print(f"{name}: central model checked for {len(checks)} facility-years, {len(problems)} differences",
              flush=True)
    for name in options:
        read, central_read = readers[name], centrals[name]
        for facility, year, n in points[:5]:
            read(year, n, facility)  # warm the cache
        timings = []
        for facility, year, n in points:
            began = time.perf_counter()
            read(year, n, facility)
            timings.append((time.perf_counter() - began) * 1000)
        result[f"{name}_facility_year_ms"] = {"p50": round(statistics.median(timings), 2),
                                              "p95": round(percentile(timings, 95), 2)}
        timings = []
        for year, n in central_points:
            began = time.perf_counter()
            out = central_read(year, n)
            timings.append((time.perf_counter() - began) * 1000)
        result[f"{name}_central_ms"] = {"p50": round(statistics.median(timings), 1),
                                        "p95": round(percentile(timings, 95), 1),
                                        "all": [round(t) for t in timings], "facilities_last": len(out)}
        print(name, result[f"{name}_facility_year_ms"], result[f"{name}_central_ms"], flush=True)
    rate_changes = sorted({p for (p,) in store.query("SELECT recorded_from FROM rd_rates")})
    for name, pieces in (("A", False), ("A2", True)):
        if name not in options:
            continue
        timings, problems, moved = [], 0, []
        rng = random.Random(seed + 7)
        for facility, year, n in points:
            current = reader.current.at(n)
            year = min(year, current)
            n1 = rng.randint(first, n)
            began = time.perf_counter()
            changes = reader.a_explain(year, facility, n1, n, pieces)
            timings.append((time.perf_counter() - began) * 1000)
            moved.append(len(changes))
            if not any(n1 < p <= n for p in rate_changes):
                before = sum(m[0] for m in reader.a(year, n1, facility, pieces).get(facility, {}).values())
                after = sum(m[0] for m in reader.a(year, n, facility, pieces).get(facility, {}).values())
                problems += after - before != sum(d for _, d in changes)
        result[f"{name}_explain_ms"] = {"p50": round(statistics.median(timings), 2),
                                        "p95": round(percentile(timings, 95), 2),
                                        "changes_p50": statistics.median(moved), "changes_max": max(moved),
                                        "sum_differs": problems}
        print(name, "explain", result[f"{name}_explain_ms"], flush=True)
    out_path = directory / f"reads-{store.kind}-{int(time.time())}.json"
    out_path.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return result
