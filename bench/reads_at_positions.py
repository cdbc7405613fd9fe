"""The central model and facility-years at positions drawn uniformly over a store's history,
in-process against a kept store (`python -m bench --keep`), as docs/adr/0042 measured them:

    python -m bench.reads_at_positions URL [--schema S] [--samples 30] [--facilities 200] [--seed 1]

The benchmark's own `central_as_of` draws instants uniformly over the run's wall clock, most of
which falls after the import (the corrections, the catch-up), so few of its points ask for a year
beyond the horizon; here every position of the history is as likely. Run it with another
commit's tree first on PYTHONPATH to compare: the same seed reads the same points, and the
printed activity totals must then be the same.
"""

from __future__ import annotations

import json
import random
import time

import typer

from domain.errors import DomainError
from service.ledger import BudgetLedger, Timeline
from service.read_models import BudgetReads
from service.settings import Settings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def summary(name: str, timings: list[tuple[float, bool, str]]) -> None:
    for part, chosen in (("all", timings), ("beyond the horizon", [t for t in timings if t[1]]),
                         ("within the horizon", [t for t in timings if not t[1]])):
        seconds = [t[0] for t in chosen]
        if seconds:
            print(f"{name}, {part}: n={len(seconds)} p50={percentile(seconds, 50):.1f} ms "
                  f"p95={percentile(seconds, 95):.1f} ms max={max(seconds) * 1000:.1f} ms")


def main(url: str, schema: str = "public", samples: int = 30, facilities: int = 200, seed: int = 1) -> None:
    ledger = BudgetLedger(Settings(database_url=url, database_schema=schema))
    reads = BudgetReads(ledger)
    last = Timeline(ledger.engine).max_position()
    codes = reads.facility_codes(last)
    rng = random.Random(seed)
    central, single = [], []
    for _ in range(samples):
        year, position = rng.randint(2017, 2026), rng.randint(len(codes), last)
        horizon = reads.horizon(position)
        started = time.perf_counter()
        years = reads.all_facility_years(year, position)
        seconds = time.perf_counter() - started
        total = sum((m.activity for _, figures in years.values() for m in figures.months), start=0)
        central.append((seconds, horizon is None or year > horizon, str(total)))
    for _ in range(facilities):
        code, year, position = rng.choice(codes), rng.randint(2017, 2026), rng.randint(len(codes), last)
        horizon = reads.horizon(position)
        started = time.perf_counter()
        try:
            total = str(sum(m.activity for m in reads.facility_year(code, year, position).months))
        except DomainError as error:
            total = type(error).__name__
        single.append((time.perf_counter() - started, horizon is None or year > horizon, total))
    summary("central model", central)
    summary("facility-year", single)
    print(json.dumps({"central": [t[2] for t in central], "facility_year": [t[2] for t in single]}))


if __name__ == "__main__":
    typer.run(main)
