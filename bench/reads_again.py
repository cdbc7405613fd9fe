"""The read benchmarks again, against a store kept by an earlier run (`--keep`), so that reads
can be measured on a quiet machine without loading the history again:

    .venv/bin/python -m bench.reads_again sqlite sqlite:////tmp/bench-sqlite-XXXX/ledger.sqlite public /tmp/bench-sqlite-XXXX
    .venv/bin/python -m bench.reads_again postgresql postgresql://postgres@127.0.0.1:5432/test bench_XXXX /tmp/bench-postgresql-XXXX

(the store, its schema and its directory as the run printed them; `--samples` as in a run;
`--reads budget,explain` for some of the reads only).
It starts a `ledger serve` and a `ledger project --follow` on the store (which applies any
newer migration first), makes a token, waits until the projector has replayed the store (so
that its start does not share the cores with the reads), and prints each read's p50, p95 and
maximum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.cpu import wait_until_idle
from bench.harness import recorded_at
from bench.load import percentile
from bench.reads import SAMPLES, measure_reads, utc_now
from bench.server import Service, create_token
from bench.store import Database


def main(kind: str, url: str, schema: str, directory: Path, samples: float = typer.Option(1.0),
         first_year: int = typer.Option(2017), last_year: int = typer.Option(2026), seed: int = typer.Option(1),
         reads: Annotated[str, typer.Option(help="Comma-separated reads to measure")] = ",".join(SAMPLES)) -> None:
    names = tuple(name.strip() for name in reads.split(","))
    if unknown := [name for name in names if name not in SAMPLES]:
        raise typer.BadParameter(f"unknown read(s) {', '.join(unknown)}; choose from {', '.join(SAMPLES)}",
                                 param_hint="--reads")
    database = Database(kind, url, schema, directory)
    token = create_token(database)
    with Service(database, name="again", projector="external") as service:
        service.wait_ready(300)
        assert service.projector is not None
        print(f"the projector replayed the store in {wait_until_idle(service.projector.pid):.0f} s")
        facilities = [f["code"] for f in service.http.get(
            "/v1/facilities", headers={"Authorization": f"Bearer {token}"}).json()["facilities"]]
        window = (recorded_at(service, token, len(facilities)), utc_now())
        loads = measure_reads(service.base, token, facilities, (first_year, last_year), window, samples, seed, names)
    for name, load in loads.items():  # nearest-rank percentiles, as a run's table has them
        p50, p95, p100 = (percentile(load.latencies, p) * 1000 for p in (50, 95, 100))
        print(f"{name:14} {load.count:4} requests  p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  max {p100:8.1f} ms  "
              f"failed {load.errors + load.timeouts}")


if __name__ == "__main__":
    typer.run(main)
