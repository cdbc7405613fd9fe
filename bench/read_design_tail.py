"""Option D's read of a year after the current one (docs/adr/0038), emulated for its row count
and read time: one row version per facility holding the groups of its open pieces (level,
special rate, sold, citizens, hours), with a checkpoint of every facility's row every E
positions, so that a read at a random position reads one checkpoint and at most E positions of
versions. Positions are real (every position at which B's tail groups of the facility changed,
from `rd_b_tail`: an event on an open stay); the groups are of the real shape (15 per facility)
but not the real values: only counts and times are measured here.

    python -m bench.read_design_tail STORE [--every E] [--central N] [--seed N]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from typing import Any

from bench.read_design_sql import Store, percentile

NEVER = 2**62
TABLES = ("CREATE TABLE rd_ftail (facility TEXT, groups TEXT, recorded_from BIGINT, recorded_to BIGINT)",
          "CREATE TABLE rd_ftail_cp (epoch INTEGER, facility TEXT, groups TEXT, recorded_from BIGINT)",
          "CREATE INDEX rd_ftail_from ON rd_ftail (recorded_from)",
          "CREATE INDEX rd_ftail_cp_epoch ON rd_ftail_cp (epoch)")


def groups(rng: random.Random) -> str:
    return json.dumps([[rng.randint(1, 8), None, rng.randint(0, 1), rng.randint(1, 4), rng.randint(300, 4000)]
                       for _ in range(12)] + [[None, rng.randint(650000, 950000), 1, 1, 2000] for _ in range(3)],
                      separators=(",", ":"))


def build(store: Store, every: int) -> dict[str, Any]:
    began = time.perf_counter()
    positions: dict[str, set[int]] = defaultdict(set)
    for facility, recorded_from in store.query("SELECT facility, recorded_from FROM rd_b_tail"):
        positions[facility].add(recorded_from)
    rng = random.Random(1)
    shapes = [groups(rng) for _ in range(50)]
    versions: list[list[Any]] = []
    for facility, found in positions.items():
        ordered = sorted(found)
        for i, position in enumerate(ordered):
            end = ordered[i + 1] if i + 1 < len(ordered) else NEVER
            versions.append([facility, shapes[i % 50], position, end])
    last = max(v[2] for v in versions)
    checkpoints = [[epoch, facility, value, recorded_from] for facility, value, recorded_from, recorded_to in versions
                   for epoch in range(recorded_from // every + 1, min(recorded_to, last) // every + 1)]
    for statement in ("DROP TABLE IF EXISTS rd_ftail", "DROP TABLE IF EXISTS rd_ftail_cp", *TABLES[:2]):
        store.execute(statement)
    store.commit()
    store.load("rd_ftail", iter(versions), columns=4)
    store.load("rd_ftail_cp", iter(checkpoints), columns=4)
    for statement in TABLES[2:]:
        store.execute(statement)
    store.execute("ANALYZE")
    store.commit()
    return {"versions": len(versions), "checkpoints": len(checkpoints), "every": every,
            "seconds": round(time.perf_counter() - began, 1)}


def later_year(store: Store, year: int, n: int, every: int) -> dict[str, int]:
    """Every facility's activity in `year` from its open groups valid at n, priced with the
    year's rate periods valid at n (a year after the current one: whole year, every day)."""
    epoch = n // every
    latest: dict[str, tuple[int, str]] = {}
    for facility, value, recorded_from in store.query(
            "SELECT facility, groups, recorded_from FROM rd_ftail_cp WHERE epoch = :e", e=epoch):
        latest[facility] = (recorded_from, value)
    for facility, value, recorded_from in store.query(
            "SELECT facility, groups, recorded_from FROM rd_ftail WHERE recorded_from > :a AND recorded_from <= :n",
            a=epoch * every, n=n):
        if facility not in latest or latest[facility][0] < recorded_from:
            latest[facility] = (recorded_from, value)
    periods: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for level, first, last, rate in store.query(
            "SELECT level, first_day, last_day, rate FROM rd_rates WHERE year = :y AND recorded_from <= :n "
            "AND recorded_to > :n", y=year, n=n):
        periods[level].append((last - first + 1, rate))
    days = date(year, 12, 31).toordinal() - date(year, 1, 1).toordinal() + 1
    out = {}
    for facility, (_, value) in latest.items():
        total = 0
        for level, special, sold, count, hours in json.loads(value):
            if special is not None:
                total += count * days * special
            else:
                total += sum(count * d * rate for d, rate in periods[level] if rate is not None)
        out[facility] = total
    return out


def main(argv: list[str]) -> None:  # pragma: no cover
    store = Store(argv[0])
    every = int(argv[argv.index("--every") + 1]) if "--every" in argv else 20_000
    central = int(argv[argv.index("--central") + 1]) if "--central" in argv else 20
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    result: dict[str, Any] = {"store": store.kind, "build": build(store, every)}
    low, high = store.query("SELECT MIN(recorded_from), MAX(recorded_from) FROM rd_ftail")[0]
    rng = random.Random(seed)
    timings = []
    for _ in range(central):
        year, n = rng.randint(2017, 2027), rng.randint(low, high)
        began = time.perf_counter()
        later_year(store, year, n, every)
        timings.append((time.perf_counter() - began) * 1000)
    result["later_year_central_ms"] = {"p50": round(statistics.median(timings), 1),
                                       "p95": round(percentile(timings, 95), 1), "all": [round(t) for t in timings]}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
