"""Option D of docs/adr/0038, emulated for its row count and read times: A2's rate segments
kept by year, plus one row version per facility-year whenever a segment piece of that
facility-year begins or ends (what a projector that keeps the figures of the years reached so
far would write). The versions' positions are the real ones, taken from `rd_segments_y`; their
content is a facility-year's figures of the real shape (12 months × 8 sums and the citizens by
level at each month's end) but not the real values, so only counts and times are measured here:
the figures themselves are A2's, checked by bench/read_design_sql.py.

    python -m bench.read_design_fy STORE [--samples N] [--central N] [--seed N] [--no-build]
    python -m bench.read_design_fy STORE --verify OUTDIR    # the rows' values, summed in position order
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

from bench.read_design_sql import Store, percentile

NEVER = 2**62
FY = ("CREATE TABLE rd_fy (facility TEXT, year INTEGER, figures TEXT, recorded_from BIGINT, recorded_to BIGINT)",
      "CREATE INDEX rd_fy_key ON rd_fy (facility, year, recorded_from)",
      "CREATE INDEX rd_fy_year ON rd_fy (year, recorded_to, recorded_from)")


def content(rng: random.Random) -> str:
    months = [[rng.randint(10**8, 10**9), 700, 720, 0, 200, rng.randint(10**7, 10**8), rng.randint(10**8, 10**9),
               rng.randint(10**5, 10**6)] for _ in range(12)]
    levels = [{str(level): rng.randint(0, 6) for level in range(1, 9)} for _ in range(12)]
    return json.dumps({"months": months, "levels": levels}, separators=(",", ":"))


def build(store: Store) -> dict[str, Any]:
    began = time.perf_counter()
    changes: dict[tuple[str, int], set[int]] = defaultdict(set)
    for year, facility, recorded_from, recorded_to in store.query(
            "SELECT year, facility, recorded_from, recorded_to FROM rd_segments_y"):
        key = (facility, year)
        changes[key].add(recorded_from)
        if recorded_to < NEVER:
            changes[key].add(recorded_to)
    rng = random.Random(1)
    shapes = [content(rng) for _ in range(50)]

    def rows() -> Any:
        for (facility, year), positions in changes.items():
            ordered = sorted(positions)
            for i, position in enumerate(ordered):
                end = ordered[i + 1] if i + 1 < len(ordered) else NEVER
                yield [facility, year, shapes[(hash(facility) + i) % 50], position, end]

    store.execute("DROP TABLE IF EXISTS rd_fy")
    store.execute(FY[0])
    store.commit()
    count = store.load("rd_fy", rows(), columns=5)
    for index in FY[1:]:
        store.execute(index)
    store.execute("ANALYZE rd_fy")
    store.commit()
    return {"rows": count, "facility_years": len(changes), "seconds": round(time.perf_counter() - began, 1)}


def figures(row: str) -> list[int]:
    value = json.loads(row)
    return [sum(month[i] for month in value["months"]) for i in range(8)]


def reads(store: Store, samples: int, central: int, seed: int = 1) -> dict[str, Any]:
    facilities = [f for (f,) in store.query("SELECT DISTINCT facility FROM rd_fy")]
    low, high = store.query("SELECT MIN(recorded_from), MAX(recorded_from) FROM rd_fy")[0]
    rng = random.Random(seed)
    one = "SELECT figures FROM rd_fy WHERE facility = :f AND year = :y AND recorded_from <= :n AND recorded_to > :n"
    every = "SELECT facility, figures FROM rd_fy WHERE year = :y AND recorded_from <= :n AND recorded_to > :n"
    timings = []
    for _ in range(samples):
        f, y, n = rng.choice(facilities), rng.randint(2017, 2026), rng.randint(low, high)
        began = time.perf_counter()
        for (row,) in store.query(one, f=f, y=y, n=n):
            json.loads(row)
        timings.append((time.perf_counter() - began) * 1000)
    result: dict[str, Any] = {"facility_year_ms": {"p50": round(statistics.median(timings), 2),
                                                   "p95": round(percentile(timings, 95), 2)}}
    timings, counts = [], []
    for _ in range(central):
        y, n = rng.randint(2017, 2026), rng.randint(low, high)
        began = time.perf_counter()
        totals = {f: figures(row) for f, row in store.query(every, y=y, n=n)}
        timings.append((time.perf_counter() - began) * 1000)
        counts.append(len(totals))
    result["central_ms"] = {"p50": round(statistics.median(timings), 1), "p95": round(percentile(timings, 95), 1),
                            "all": [round(t) for t in timings], "facilities": counts}
    timings = []
    explain = ("SELECT recorded_from, figures FROM rd_fy WHERE facility = :f AND year = :y "
               "AND recorded_from > :a AND recorded_from <= :b ORDER BY recorded_from")
    for _ in range(samples):
        f, y, b = rng.choice(facilities), rng.randint(2017, 2026), rng.randint(low, high)
        a = rng.randint(low, b)
        began = time.perf_counter()
        [figures(row) for _, row in store.query(explain, f=f, y=y, a=a, b=b)]
        timings.append((time.perf_counter() - began) * 1000)
    result["explain_ms"] = {"p50": round(statistics.median(timings), 2), "p95": round(percentile(timings, 95), 2)}
    return result


def main(argv: list[str]) -> None:  # pragma: no cover
    store = Store(argv[0])
    if "--verify" in argv:
        print(json.dumps(verify(store, argv[argv.index("--verify") + 1]), indent=1))
        return
    samples = int(argv[argv.index("--samples") + 1]) if "--samples" in argv else 200
    central = int(argv[argv.index("--central") + 1]) if "--central" in argv else 20
    result = {"store": store.kind}
    if "--no-build" not in argv:
        result["build"] = build(store)
        print(result["build"], flush=True)
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    result |= reads(store, samples, central, seed)
    print(json.dumps(result, indent=1))



# The values of D's rows: a sweep in position order (the rebuild's second pass) ----------------


def contribution(piece: tuple[Any, ...], rates: dict[tuple[int, int], list[tuple[int, int, Any]]]
                 ) -> dict[int, list[Any]]:
    """What one piece adds to the months of its year: 8 sums and the level key at month end."""
    from datetime import date as day_of

    year, level, level_key, special_rate, present, sold, hours, first, last = piece
    last = min(last, day_of(year, 12, 31).toordinal())
    out: dict[int, list[Any]] = {}
    for month in range(day_of.fromordinal(first).month, day_of.fromordinal(last).month + 1):
        m_first = day_of(year, month, 1).toordinal()
        m_last = (day_of(year + month // 12, month % 12 + 1, 1).toordinal() - 1)
        a, b = max(first, m_first), min(last, m_last)
        if a > b:
            continue
        if special_rate is not None or level is None:
            spans = [(b - a + 1, special_rate)]
        else:
            spans = [(min(b, p_last) - max(a, p_first) + 1, rate) for p_first, p_last, rate in rates.get((level, year), [])
                     if p_first <= b and p_last >= a]
        sums = [0] * 8
        for d, rate in spans:
            amount = 0 if rate is None else d * rate
            sums[0] += amount
            sums[2] += d
            sums[3] += d if rate is None else 0
            if present:
                sums[1] += d
                sums[6] += amount
                sums[7] += d * hours
                if sold:
                    sums[4] += d
                    sums[5] += amount
        out[month] = sums + [level_key if present and last >= m_last else None]
    return out


def verify(store: Store, directory: str) -> dict[str, Any]:
    """Sum every facility-year from its pieces in position order, adding what a piece adds when
    it begins and taking it away when it ends (and repricing a year's pieces when its rates
    change), and compare the sums at the checked positions with `stay_months` (expected.json)."""
    from pathlib import Path

    from bench.read_design_sql import CurrentYear

    checks = json.loads((Path(directory) / "expected.json").read_text())
    current = CurrentYear(json.loads((Path(directory) / "year_advances.json").read_text()))
    wanted = defaultdict(list)
    later = 0
    for check in checks:
        if check["year"] > current.at(check["position"]):
            later += 1  # a year after the current one: D reads the open tails, not these rows
            continue
        wanted[check["position"]].append(check)
    pieces = store.query("SELECT year, level, level_key, special_rate, present, sold, hours, first_day, last_day, "
                         "facility, recorded_from, recorded_to FROM rd_segments_y")
    rate_rows = store.query("SELECT level, year, first_day, last_day, rate, recorded_from, recorded_to FROM rd_rates")
    steps: list[tuple[int, int, int, str]] = []  # (position, order, index, kind)
    for i, row in enumerate(pieces):
        steps.append((row[10], 1, i, "piece+"))
        if row[11] < NEVER:
            steps.append((row[11], 0, i, "piece-"))
    for i, row in enumerate(rate_rows):
        steps.append((row[5], 0, i, "rate+"))
        if row[6] < NEVER:
            steps.append((row[6], 0, i, "rate-"))
    steps.sort()
    rates: dict[tuple[int, int], list[tuple[int, int, Any]]] = defaultdict(list)
    sums: dict[tuple[str, int], dict[int, list[Any]]] = defaultdict(dict)
    valid: dict[int, dict[int, dict[int, list[Any]]]] = defaultdict(dict)  # year -> piece -> contribution
    problems, checked, versions = [], 0, 0
    positions = sorted(wanted)

    def apply(key: tuple[str, int], added: dict[int, list[Any]], sign: int) -> None:
        months = sums[key]
        for month, values in added.items():
            held = months.setdefault(month, [0] * 8 + [{}])
            for k in range(8):
                held[k] += sign * values[k]
            if values[8] is not None:
                held[8][values[8]] = held[8].get(values[8], 0) + sign
                if not held[8][values[8]]:
                    del held[8][values[8]]

    i = 0
    repriced: set[int] = set()
    for position in [*sorted({s[0] for s in steps}), NEVER]:
        while positions and positions[0] < position:
            at = positions.pop(0)
            for check in wanted[at]:
                months = sums.get((check["facility"], check["year"]), {})
                got = {m: v[:8] + [dict(v[8])] for m, v in months.items() if any(v[:8]) or v[8]}
                want = {int(m): list(v[:8]) + [json.loads(v[8])] for m, v in check["months"].items()}
                checked += 1
                if got != want:
                    problems.append(f"{check['facility']} {check['year']} at {at}")
        if position == NEVER:
            break
        touched: set[tuple[str, int]] = set()
        while i < len(steps) and steps[i][0] == position:
            _, _, index, kind = steps[i]
            i += 1
            if kind.startswith("rate"):
                level, year, first, last, rate = rate_rows[index][:5]
                entry = (first, last, rate)
                if kind == "rate+":
                    rates[(level, year)].append(entry)
                else:
                    rates[(level, year)].remove(entry)
                repriced.add(year)
                continue
            row = pieces[index]
            key = (row[9], row[0])
            if kind == "piece+":
                added = contribution(row[:9], rates)
                valid[row[0]][index] = added
                apply(key, added, 1)
            else:
                apply(key, valid[row[0]].pop(index), -1)
            touched.add(key)
        for year in repriced:  # a year's rates changed here: every valid piece of it again
            for index, added in list(valid[year].items()):
                row = pieces[index]
                apply((row[9], year), added, -1)
                valid[year][index] = contribution(row[:9], rates)
                apply((row[9], year), valid[year][index], 1)
                touched.add((row[9], year))
        repriced.clear()
        versions += len(touched)
    return {"checked": checked, "later_years_not_checked": later, "differences": len(problems), "first": problems[:5], "facility_year_versions": versions}


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
