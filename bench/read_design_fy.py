"""Option D of docs/adr/0038, emulated for its row count and read times: A2's rate segments
kept by year, plus one row version per facility-year whenever a segment piece of that
facility-year begins or ends (what a projector that keeps the figures of the years reached so
far would write). The versions' positions are the real ones, taken from `rd_segments_y`; their
content is a facility-year's figures of the real shape (12 months × 8 sums and the citizens by
level at each month's end) but not the real values, so only counts and times are measured here:
the figures themselves are A2's, checked by bench/read_design_sql.py.

    python -m bench.read_design_fy STORE [--samples N] [--central N] [--seed N] [--no-build]
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
    samples = int(argv[argv.index("--samples") + 1]) if "--samples" in argv else 200
    central = int(argv[argv.index("--central") + 1]) if "--central" in argv else 20
    result = {"store": store.kind}
    if "--no-build" not in argv:
        result["build"] = build(store)
        print(result["build"], flush=True)
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    result |= reads(store, samples, central, seed)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
