"""A statement and a what-if read on option A2's pieces (docs/adr/0038).

- statement: the present days of one paying municipality's stays in one month as of a random
  position, each run of days with its service rate (what a statement line's periods are), from
  `rd_segments_y` and `rd_rates` with an index by (year, payer);
- what-if: the present days of a year as of a random position counted by facility, payer,
  level (or special rate) and service rate: what the what-if prices with the draft rates.

    python -m bench.read_design_statements STORE [--samples N] [--what-if N] [--seed N]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import date
from typing import Any

from bench.read_design_sql import Store, percentile

LINES = """
WITH seg AS (
  SELECT s.stay_id, s.facility, s.level, s.special_rate,
         GREATEST(s.first_day, :first) AS a, LEAST(s.last_day, :last) AS b
  FROM rd_segments_y s
  WHERE s.year = :year AND s.payer = :payer AND s.present = 1 AND s.recorded_from <= :n AND s.recorded_to > :n
    AND s.first_day <= :last AND s.last_day >= :first
)
SELECT seg.stay_id, seg.facility,
       GREATEST(seg.a, COALESCE(r.first_day, seg.a)) AS a, LEAST(seg.b, COALESCE(r.last_day, seg.b)) AS b,
       COALESCE(seg.special_rate, r.rate) AS rate
FROM seg LEFT JOIN rd_rates r ON r.level = seg.level AND r.year = :year AND r.first_day <= seg.b
     AND r.last_day >= seg.a AND r.recorded_from <= :n AND r.recorded_to > :n
ORDER BY seg.stay_id, 3"""


WHAT_IF = """
WITH seg AS (
  SELECT s.facility, s.payer, s.level, s.special_rate, GREATEST(s.first_day, :first) AS a,
         LEAST(s.last_day, :last) AS b
  FROM rd_segments_y s
  WHERE {where} AND s.present = 1 AND s.recorded_from <= :n AND s.recorded_to > :n
    AND s.first_day <= :last AND s.last_day >= :first
)
SELECT seg.facility, seg.payer, seg.level, seg.special_rate, r.rate,
       SUM(LEAST(seg.b, COALESCE(r.last_day, seg.b)) - GREATEST(seg.a, COALESCE(r.first_day, seg.a)) + 1)
FROM seg LEFT JOIN rd_rates r ON r.level = seg.level AND r.year = :year AND r.first_day <= seg.b
     AND r.last_day >= seg.a AND r.recorded_from <= :n AND r.recorded_to > :n
GROUP BY seg.facility, seg.payer, seg.level, seg.special_rate, r.rate"""


def main(argv: list[str]) -> None:  # pragma: no cover
    store = Store(argv[0])
    samples = int(argv[argv.index("--samples") + 1]) if "--samples" in argv else 200
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    store.execute("DROP INDEX IF EXISTS rd_segments_y_payer")
    began = time.perf_counter()
    store.execute("CREATE INDEX rd_segments_y_payer ON rd_segments_y (year, payer, recorded_from, recorded_to)")
    store.commit()
    index_seconds = time.perf_counter() - began
    payers = [p for (p,) in store.query("SELECT DISTINCT payer FROM rd_segments_y WHERE sold = 1")]
    low, high = store.query("SELECT MIN(recorded_from), MAX(recorded_from) FROM rd_segments_y")[0]
    rng = random.Random(seed)
    timings, lines = [], []
    for _ in range(samples):
        payer, year, month, n = rng.choice(payers), rng.randint(2017, 2026), rng.randint(1, 12), rng.randint(low, high)
        first = date(year, month, 1)
        last = date(year + month // 12, month % 12 + 1, 1).toordinal() - 1
        began = time.perf_counter()
        rows = store.query(LINES, year=year, payer=payer, n=n, first=first.toordinal(), last=last)
        timings.append((time.perf_counter() - began) * 1000)
        lines.append(len({row[0] for row in rows}))
    result: dict[str, Any] = {"store": store.kind, "payers": len(payers), "index_seconds": round(index_seconds, 1),
                              "statement_ms": {"p50": round(statistics.median(timings), 2),
                                               "p95": round(percentile(timings, 95), 2)},
                              "stays_per_statement": {"p50": statistics.median(lines), "max": max(lines)}}
    advances = json.loads(open(argv[argv.index("--advances") + 1]).read()) if "--advances" in argv else []
    timings = []
    for _ in range(int(argv[argv.index("--what-if") + 1]) if "--what-if" in argv else 20):
        year, n = rng.randint(2017, 2026), rng.randint(low, high)
        current = max([y for p, y in advances if p <= n], default=year)
        where = "s.year = :year" if year <= current else "s.year = :current AND s.last_day = :open"
        began = time.perf_counter()
        store.query(WHAT_IF.format(where=where), year=year, n=n, current=current, open=date(9999, 12, 31).toordinal(),
                    first=date(year, 1, 1).toordinal(), last=date(year, 12, 31).toordinal())
        timings.append((time.perf_counter() - began) * 1000)
    result["what_if_ms"] = {"p50": round(statistics.median(timings), 1), "p95": round(percentile(timings, 95), 1),
                            "all": [round(t) for t in timings]}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
