"""`python -m bench costs --scale S --store K`: where the time of a command and of a rebuild goes,
taken apart step by step in this one process, on a fresh store holding the scale's history,
each step beside a baseline measured in the same run. It explains the misses of the main run
(`python -m bench`), it does not replace it: no HTTP, no service, no writes of read models.

Commands, with 1 and 8 threads for `--http-seconds` each:
- the library's load-and-save loop (`bench.baselines.append_loop`), the baseline;
- the product's `BudgetLedger` handling the requests of the HTTP benchmark in process
  (`bench.commands.LedgerClient`): its rules, the idempotency record, the ledger index and the
  hash chain, without HTTP, token or projection. What the service adds to this is HTTP.

The HTTP floor, with 1 client for `--http-seconds`: the same requests through a real `ledger
serve` (nothing projecting), each refused with 422 for an effective date that is not a date:
the token's look-up, the body's reading and validation, the middleware, uvicorn and the
client, and nothing of the ledger. With 1 client the throughput is 1 / the latency, so this
is the most the HTTP throughput could reach if the ledger's work cost nothing.

Projection of every stored event, in pages of 2 000 as `ledger rebuild` reads them, each
step timed apart (the first two together are the main run's read + decode baseline):
- read: the notification log's page;
- decode: the product's mapper, into domain events;
- replay: the aggregates only (`BudgetProjection.replay`: the domain's `mutate`);
- stays: the same replay, and each citizen's stays derived after each of its events
  (`BudgetProjection.stays_of`): what a read model of one version per stay (docs/adr/0013)
  computes per event when it derives the stays as the domain does (deriving only the stay an
  event changes would cost less);
- rows: `BudgetProjection.apply`, every row version of today's read models computed, none
  written; `ledger rebuild` (the main run) adds writing them.
Each is reported as the rate a projection doing only that could reach, beside read + decode:
the ceiling of the rebuild's "≥ 50 % of read + decode" for each read-model shape.

The commands and the floor run first, then the projection in three passes over the store
(read + decode alone; replay and stays; rows), each starting from a collected heap, so that no
step pays the garbage collector for objects another step holds.

The store holds the generator's history through `ledger import`, without the main run's
corrections (about 1 % of the events: they are found through a running service's API), and
then the commands of the in-process loops (a few thousand events), which the projection's
passes include."""

from __future__ import annotations

import gc
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import baselines, cpu
from bench.commands import LedgerClient, RefusedClient
from bench.generate import generate
from bench.load import Load, drive
from bench.report import Figure, Results, machine
from bench.scales import Scale
from bench.server import Service, create_token, ledger
from bench.store import fresh_stores
from service.ledger import BudgetLedger

CLIENTS = (1, 8)
WARMUP = 3
"""Steps per client before a load is counted (its time and its CPU)."""
PAGE = 2000
STEPS = ("read", "decode", "replay", "stays", "rows")


def run(scale: Scale, store: str, seed: int, http_seconds: float, say: Any, cache: Path | None = None) -> Results:
    """Import the scale's history into a fresh store of kind `store`, then take the costs apart."""
    from bench.harness import HERE

    started = datetime.now(timezone.utc)
    info = machine()
    generated = generate(scale, seed, cache or HERE / ".cache")
    data: dict[str, Any] = {**generated.meta, "file": str(generated.path)}
    details: dict[str, Any] = {"load_average_at_start": os.getloadavg()}
    with fresh_stores(store) as stores:
        product = stores.product
        ledger(product, "migrate")
        say(f"ledger import: {generated.meta['commands']} commands")
        ledger(product, "import", str(generated.path))
        settings = product_settings(product)
        figures: list[Figure] = []
        raws = {}
        app = BudgetLedger(settings)
        try:
            facilities = app.facility_codes()
            for clients in CLIENTS:  # each CPU figure counts from the end of the warm-up (on_start)
                say(f"the library's load-and-save loop, {clients} thread(s)")
                with cpu.measured({"bench": os.getpid()}) as usage:
                    raw = raws[clients] = baselines.append_loop(stores.raw.library_env(), clients, http_seconds,
                                                                f"raw-{clients}", on_start=usage.restart)
                details[f"raw_{clients}"] = raw.summary() | {"cpu": usage.summary(raw.count)}
                say(f"the ledger's commands in process, {clients} thread(s)")
                ledger_clients = [LedgerClient(app, facilities, f"COSTS-{clients}-{i}", scale.last_year,
                                               seed * 100 + i) for i in range(clients)]
                with cpu.measured({"bench": os.getpid()}) as usage:
                    ours = drive(ledger_clients, seconds=http_seconds, warmup=WARMUP, on_start=usage.restart)
                details[f"ledger_{clients}"] = ours.summary() | {"cpu": usage.summary(ours.count)}
                figures += command_figures(clients, ours, raw, usage.per(ours.count))
        finally:
            app.close()
        say("the HTTP floor: refused commands (422) through `ledger serve`, 1 client")
        token = create_token(product)
        with Service(product, "floor", projector="none") as service:
            service.wait_ready()
            refused = [RefusedClient(service.base, token, facilities, "FLOOR", scale.last_year, seed)]
            with cpu.measured({"service": service.process.pid, "client": os.getpid()}) as usage:
                floor = drive(refused, seconds=http_seconds, warmup=WARMUP, on_start=usage.restart)
        details["floor_1"] = floor.summary() | {"cpu": usage.summary(floor.count)}
        figures += floor_figures(floor, raws[1], usage.per(floor.count))
        say("projection, step by step, of every stored event")
        seconds, events = projection_steps(settings)
        data["store_events"] = events
        details["projection_seconds"] = {step: round(s, 6) for step, s in seconds.items()}
        figures = projection_figures(seconds, events) + figures
    details["load_average_at_end"] = os.getloadavg()
    return Results(f"costs-{scale.name}", store, seed, started.isoformat(), datetime.now(timezone.utc).isoformat(),
                   info, data, figures, details)


def product_settings(product: Any) -> Any:
    from service.settings import Settings

    return Settings(database_url=product.url, database_schema=product.schema)


def projection_steps(settings: Any) -> tuple[dict[str, float], int]:
    """Seconds spent on each step over every stored event, and how many events, in three
    passes over the store, so that no step pays for a heap another step built (the collector
    walks every live object): read + decode alone (the main run's baseline); replay and the
    stays (the replay timed apart from deriving the stays); every row version computed. Runs
    with the garbage collector thresholds of the `ledger` command (docs/adr/0016), as a
    rebuild does, and collects between passes."""
    from projections.projector import BudgetProjection
    from service.cli import GC_THRESHOLDS

    app = BudgetLedger(settings)
    seconds = dict.fromkeys(STEPS, 0.0)
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        gc.collect()
        count = 0
        for events in baselines.decoded_pages(app, PAGE, seconds):
            count += len(events)
        gc.collect()
        derived = BudgetProjection()
        clock = time.perf_counter
        for events in baselines.decoded_pages(app, PAGE):
            for event in events:
                began = clock()
                derived.replay(event)
                replayed = clock()
                citizen = derived.citizens.get(event.originator_id)
                if citizen is not None:
                    derived.stays_of(citizen)
                seconds["replay"] += replayed - began
                seconds["stays"] += clock() - began
        del derived
        gc.collect()
        computed = BudgetProjection()
        for events in baselines.decoded_pages(app, PAGE):
            began = time.perf_counter()
            for event in events:
                computed.apply(event)
            seconds["rows"] += time.perf_counter() - began
        del computed
        gc.collect()
    finally:
        gc.set_threshold(*thresholds)
        app.close()
    return seconds, count


def projection_figures(seconds: dict[str, float], events: int) -> list[Figure]:
    """The rate a projection doing each step (after reading and decoding) could reach."""
    base = seconds["read"] + seconds["decode"]
    rate = events / base if base else None
    label = "read + decode"
    figures = [
        Figure("read", "read the notification log (pages of 2 000)", "µs/event", _us(seconds["read"], events),
               note="per event"),
        Figure("decode", "decode with the product's mapper", "µs/event", _us(seconds["decode"], events),
               note="per event"),
    ]
    for step, text in (("replay", "projection ceiling: replay the aggregates"),
                       ("stays", "projection ceiling: replay, derive each citizen's stays (ADR 0013's shape)"),
                       ("rows", "projection ceiling: every row version of today's read models computed")):
        figures.append(Figure(
            f"ceiling_{step}", text, "/s", events / (base + seconds[step]) if base + seconds[step] else None, True,
            baseline=rate, baseline_label=label, work=events,
            note=f"read + decode and {_us(seconds[step], events):.1f} µs/event; nothing written"))
    return figures


def floor_figures(floor: Load, raw: Load, cpu_ms: dict[str, float]) -> list[Figure]:
    """What HTTP costs before the ledger does anything: the HTTP throughput's ceiling with 1 client."""
    spent = (f"CPU per request: the service {cpu_ms.get('service', 0):.2f} ms, the client {cpu_ms.get('client', 0):.2f}"
             f" ms, the database and the rest {cpu_ms.get('other', 0):.2f} ms" if cpu_ms else None)
    summary, baseline = floor.summary(), raw.summary()
    return [
        Figure("floor_1_throughput", "HTTP floor: refused commands (422), 1 client", "/s", summary["throughput_per_s"],
               True, baseline=baseline["throughput_per_s"], baseline_label="library: load + save", work=floor.count,
               note=spent),
        Figure("floor_1_p50", "HTTP floor: refused command p50, 1 client", "ms", summary["p50_ms"],
               baseline=baseline["p50_ms"], baseline_label="library"),
    ]


def command_figures(clients: int, ours: Load, raw: Load, cpu_ms: dict[str, float]) -> list[Figure]:
    who = f"{clients} thread{'s' if clients > 1 else ''}"
    spent = (f"CPU per command: this process {cpu_ms.get('bench', 0):.2f} ms, the database and the rest "
             f"{cpu_ms.get('other', 0):.2f} ms" if cpu_ms else None)
    summary, baseline = ours.summary(), raw.summary()
    return [
        Figure(f"ledger_{clients}_throughput", f"the ledger's commands in process, {who}", "/s",
               summary["throughput_per_s"], True, baseline=baseline["throughput_per_s"],
               baseline_label="library: load + save", work=ours.count, note=spent),
        Figure(f"ledger_{clients}_p95", f"the ledger's command p95 in process, {who}", "ms", summary["p95_ms"],
               baseline=baseline["p95_ms"], baseline_label="library"),
    ]


def _us(seconds: float, events: int) -> float:
    return seconds * 1e6 / events if events else float("nan")
