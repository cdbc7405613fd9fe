"""One benchmark run: a fresh store, the history loaded through `ledger import`, the service
measured through a real socket, `ledger rebuild`, and the library's baselines on the same
kind of store, in that order:

 1. generate the history (or reuse it from bench/.cache/);
 2. `ledger migrate`, then `ledger migrate` again (the command's start-up on a ready store);
 3. `ledger import FILE`, timed, and right after it its baseline, the library's batched
    appends of as many events (so both meet the machine in the same minute); [import]
 4. `ledger serve`; the embedded projections follow the import;     (catch-up, informational)
 5. the corrections: events found through the API, retractions and new facts imported;
 6. commands through HTTP with 1 and 8 clients, and the CPU each process and the machine
    used for them (bench/cpu.py);                                   [http]
 7. reads at random as-of points;                                   [reads]
 8. the service's peak resident memory (VmHWM); the service stops;  [memory]
 9. `ledger rebuild`, timed, with its CPU, its peak resident memory, and the row versions it
    wrote, per event by event type (bench/writes.py);               [rebuild]
10. baselines: read + decode every event (product's mapper); the raw library's append loop
    (1 and 8 threads); the HTTP + library floor: the same loop behind a minimal FastAPI app
    served as `ledger serve` is, driven by the command benchmark's clients (1 and 8,
    bench/floor.py); an idle service on an empty store.

Each missed target is then given its reason in these measurements (bench/reasons.py).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import baselines, cpu, writes
from bench.commands import CommandClient
from bench.corrections import resolve
from bench.floor import Floor
from bench.generate import generate
from bench.scales import Scale
from bench.load import Load, drive
from bench.reads import READ_TIMEOUT, measure_reads, utc_now
from bench.report import MIB, Figure, Results, count_text, machine
from bench.server import Service, create_token, ledger
from bench.reasons import why_missed
from bench.store import fresh_stores
from service.db import READ_MODEL_TABLES

GROUPS = ("import", "http", "reads", "memory", "rebuild")
HERE = Path(__file__).parent
CLIENTS = (1, 8)
P95_TARGET_MS = {"sqlite": 10.0, "postgresql": 15.0}
FLOOR_P95_TARGET_MS = {"sqlite": 7.0, "postgresql": 10.0}
"""Issue 20's p95 of a command with 1 client, shown against the HTTP + library floor."""
FLOOR_MIN_RATIO = 0.5
"""Issue 20: the HTTP commands with 8 clients at least this share of the floor's throughput."""
MEMORY_TARGET_MIB = 512
"""Issue 19: the peak memory of the service and of the projecting process (`ledger rebuild`,
`ledger project --follow`) at `national`."""
PROJECTING_SCALE_RATIO = 1.5
"""Issue 19: the projecting process's peak memory at `national` at most this times its `large`
figure (`python -m bench compare LARGE.json NATIONAL.json`)."""
READ_TARGETS_MS = {"budget": 50.0, "central": 500.0, "central_as_of": None, "explain": 200.0, "regulation": 5000.0,
                   "what_if": 5000.0}
READ_LABELS = {"budget": "budget of a facility-year, random as_of", "central": "central model of a year",
               "central_as_of": "central model of a year, random as_of (informational)",
               "explain": "explain a facility-year between 2 points", "regulation": "regulation of a year",
               "what_if": "what-if of a year"}


@dataclass
class Options:
    scale: Scale
    store: str
    seed: int = 1
    keep: bool = False
    only: tuple[str, ...] = GROUPS
    http_seconds: float = 5.0
    samples: float = 1.0
    projector: str = "embedded"
    """`embedded`: the service projects in its own process (the default); `external`: a
    `ledger project --follow` process does, as ADR 0006 recommends for PostgreSQL."""
    cache: Path = HERE / ".cache"
    results: Path | None = HERE / "results"


@dataclass
class Run:
    """What a run measured so far, turned into figures at the end."""

    options: Options
    data: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)
    facilities: list[str] = field(default_factory=list)
    """The facilities' codes, for the requests of the command benchmark and of the floor."""


def run(options: Options, console: Console | None = None) -> Results:
    console = console or Console(stderr=True)
    say = console.log
    started = datetime.now(timezone.utc)
    state = Run(options)
    state.details["load_average_at_start"] = os.getloadavg()
    info = machine()  # the commit as the run starts
    say(f"generating {options.scale.name} (seed {options.seed}) in {options.cache}")
    generated = generate(options.scale, options.seed, options.cache)
    state.data.update(generated.meta)
    state.data["file"] = str(generated.path)
    with fresh_stores(options.store, keep=options.keep) as stores:
        product = stores.product
        if options.keep:
            say(f"store kept: {stores.directory} / schema {product.schema}")
            state.data["kept"] = {"kind": product.kind, "url": product.url, "schema": product.schema,
                                  "directory": str(stores.directory)}
        ledger(product, "migrate")
        startup = ledger(product, "migrate")
        state.measured["startup"] = startup.seconds
        state.measured["startup_memory"] = startup.peak_memory
        token = create_token(product)
        say(f"ledger import: {generated.meta['commands']} commands")
        with cpu.measured({}, children="import") as usage:
            imported = ledger(product, "import", str(generated.path))
        state.measured["import"] = imported.seconds
        state.measured["import_cpu"] = usage
        state.details["import_cpu"] = usage.summary(generated.meta["commands"])
        say(f"imported in {imported.seconds:.1f} s")
        if "import" in options.only:
            say("baseline: the library's batched appends")
            with cpu.measured({"library": os.getpid()}) as usage:
                count, seconds = baselines.batched_appends(stores.raw.library_env(), state.data["events"])
            state.measured["batched"] = (count, seconds)
            state.measured["batched_cpu"] = usage
            state.details["batched"] = {"events": count, "seconds": round(seconds, 4), "cpu": usage.summary(count)}
        state.data["projector"] = options.projector
        with Service(product, projector=options.projector) as service:
            service.wait_ready()
            position, seconds = service.wait_caught_up(timeout=max(600, generated.meta["events"] / 20))
            state.measured["catch_up"] = (position, seconds)
            say(f"projections caught up with {position} events in {seconds:.1f} s")
            fixes = stores.directory / "corrections.jsonl"
            count = resolve(service.base, token, generated.corrections, fixes)
            ledger(product, "import", str(fixes))
            position, _ = service.wait_caught_up(timeout=max(600, generated.meta["events"] / 20))
            say(f"{count} corrections made; store at {position}")
            state.data["history_events"] = position
            facilities = [f["code"] for f in service.http.get(
                "/v1/facilities", headers={"Authorization": f"Bearer {token}"}).json()["facilities"]]
            state.facilities = facilities
            if "http" in options.only:
                _commands(service, token, facilities, state, say)
            if "reads" in options.only:
                say("reads")
                state.data["dead_rows_at_reads"] = product.dead_rows(READ_MODEL_TABLES)
                window = (recorded_at(service, token, len(facilities)), utc_now())
                reads = measure_reads(service.base, token, facilities,
                                      (options.scale.first_year, options.scale.last_year), window, options.samples,
                                      options.seed)
                state.measured["reads"] = reads
                state.details["reads"] = {name: load.summary() | {"latencies_ms": [round(x * 1000, 2) for x in
                                                                            load.latencies]}
                                          for name, load in reads.items()}
            state.measured["memory"] = service.memory()
            if service.projector is not None:
                state.measured["projector_memory"] = service.projector_memory()
            state.data["store_events"] = service.wait_caught_up(timeout=600)[0]
        state.data["store_bytes"] = product.size_bytes()
        if "rebuild" in options.only:
            say("ledger rebuild")
            with cpu.measured({}, children="rebuild") as usage:
                rebuilt = ledger(product, "rebuild")
            state.measured["rebuild"] = rebuilt.seconds
            state.measured["rebuild_memory"] = rebuilt.peak_memory
            state.measured["rebuild_cpu"] = usage
            state.details["rebuild_cpu"] = usage.summary(state.data["store_events"])
            state.data["read_model_rows"] = product.row_counts(READ_MODEL_TABLES)
            say("read-model row versions per event, by event type")
            state.data["rows_per_event"] = writes.count(product).to_json()
        _baselines(stores, state, say)
    state.details["load_average_at_end"] = os.getloadavg()
    results = Results(options.scale.name, options.store, options.seed, started.isoformat(),
                      datetime.now(timezone.utc).isoformat(), info, state.data, figures(state), state.details)
    if options.results is not None:
        say(f"results: {results.save(options.results)}")
    return results


def recorded_at(service: Service, token: str, position: int) -> datetime:
    """When the event at `position` was recorded (GET /v1/audit): the reads' as-of instants
    start there, once every facility is registered (the history registers them first)."""
    response = service.http.get("/v1/audit", params={"after_position": position - 1, "limit": 1},
                                headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return datetime.fromisoformat(response.json()["events"][0]["recorded_at"])


def _commands(service: Service, token: str, facilities: list[str], state: Run, say: Any) -> None:
    options = state.options
    for clients in CLIENTS:
        say(f"commands through HTTP, {clients} client(s), {options.http_seconds:g} s")
        processes = {"service": service.process.pid, "projector": service.projector.pid if service.projector else None,
                     "client": os.getpid()}
        with cpu.measured(processes) as usage:
            load = drive([CommandClient(service.base, token, facilities, f"BENCH-{clients}-{i}",
                                        options.scale.last_year, options.seed * 100 + i) for i in range(clients)],
                         seconds=options.http_seconds, warmup=3)
            service.wait_caught_up(timeout=600)  # the projection of the commands is part of their cost
        state.measured[f"http_{clients}"] = load
        state.measured[f"http_{clients}_cpu"] = usage
        state.details[f"http_{clients}"] = load.summary() | {"cpu": usage.summary(load.count)}


def _baselines(stores: Any, state: Run, say: Any) -> None:
    from service.settings import Settings

    options, product = state.options, stores.product
    say("baseline: read and decode every stored event")
    settings = Settings(database_url=product.url, database_schema=product.schema)
    events, seconds = baselines.read_and_decode(settings)
    state.measured["decode"] = (events, seconds)
    state.details["decode"] = {"events": events, "seconds": round(seconds, 4)}
    raw_env = stores.raw.library_env()
    if "http" in options.only:
        for clients in CLIENTS:
            say(f"baseline: the library's append loop, {clients} thread(s)")
            with cpu.measured({"library": os.getpid()}) as usage:
                load = baselines.append_loop(raw_env, clients, options.http_seconds, f"raw-{clients}")
            state.measured[f"raw_{clients}"] = load
            state.measured[f"raw_{clients}_cpu"] = usage
            state.details[f"raw_{clients}"] = load.summary() | {"cpu": usage.summary(load.count)}
        _floor(stores, state, say)
    if "memory" in options.only:
        say("baseline: an idle service on an empty store")
        ledger(stores.empty, "migrate")
        with Service(stores.empty, "idle") as idle:
            idle.wait_ready()
            idle.wait_caught_up(timeout=60)
            state.measured["idle_memory"] = idle.memory()


def _floor(stores: Any, state: Run, say: Any) -> None:
    """The HTTP + library floor: the command benchmark's clients, with 1 and 8 clients, against
    the library's loop behind a minimal FastAPI app on `ledger serve`'s server (bench/floor.py)."""
    options = state.options
    with Floor(stores.product.env, stores.raw.library_env(), stores.directory / "floor.log") as floor:
        floor.wait_ready()
        for clients in CLIENTS:
            say(f"baseline: the HTTP + library floor, {clients} client(s)")
            with cpu.measured({"floor": floor.process.pid, "client": os.getpid()}) as usage:
                load = drive([CommandClient(floor.base, "floor", state.facilities, f"FLOOR-{clients}-{i}",
                                            options.scale.last_year, options.seed * 100 + i) for i in range(clients)],
                             seconds=options.http_seconds, warmup=3, on_start=usage.restart)
            state.measured[f"floor_{clients}"] = load
            state.measured[f"floor_{clients}_cpu"] = usage
            state.details[f"floor_{clients}"] = load.summary() | {"cpu": usage.summary(load.count)}


def rows_per_citizen_event(counted: writes.Writes) -> Figure:
    """Issue 19: a citizen event writes O(1) read-model rows on average at every scale. The mean
    is read against the other runs (`compare`: its cost may not grow with the events, k ≤ 0);
    the most one event wrote shows what a mean hides."""
    citizen, every = counted.total(citizen_only=True), counted.total()
    return Figure("rows_per_citizen_event", "read-model row versions per citizen event (rebuild)", "rows",
                  citizen.per_event if citizen.events else None, baseline=every.per_event if every.events else None,
                  baseline_label="per event of any type", growth=0.0,
                  note=f"{count_text(citizen.events)} citizen events wrote {count_text(citizen.rows)} row versions, at most "
                       f"{count_text(citizen.most)} one event; O(1) when flat from scale to scale (compare: k ≤ 0)")


def figures(state: Run) -> list[Figure]:
    m, options, data = state.measured, state.options, state.data
    store = options.store
    result: list[Figure] = []
    decode_events, decode_seconds = m.get("decode", (0, math.nan))
    decode_rate = decode_events / decode_seconds if decode_seconds else math.nan
    if "import" in options.only and "import" in m:
        commands = data["commands"]
        batched = m.get("batched")
        result.append(Figure(
            "import", "ledger import", "/s", commands / m["import"], True,
            baseline=batched[0] / batched[1] if batched else None, baseline_label="library: batched appends",
            target=20_000 if store == "sqlite" else None, work=commands,
            note=f"{commands} commands in {m['import']:.1f} s"))
    position, seconds = m["catch_up"]
    result.append(Figure("catch_up", "projections follow the import", "/s", position / seconds if seconds else None,
                         True, baseline=decode_rate, baseline_label="read + decode", work=position,
                         note="informational"))
    for clients in CLIENTS:
        who = f"{clients} client{'s' if clients > 1 else ''}"
        load: Load | None = m.get(f"http_{clients}")
        raw: Load | None = m.get(f"raw_{clients}")
        if load is None:
            continue
        errors = f", {load.errors} failed" if load.errors else ""
        result.append(Figure(f"http_{clients}_throughput", f"HTTP commands, {who}", "/s",
                             load.throughput, True, baseline=raw.throughput if raw else None,
                             baseline_label="library: load + save", min_ratio=0.5,
                             note=f"{load.count} requests{errors}"))
        for q in (50, 95, 99):
            result.append(Figure(f"http_{clients}_p{q}", f"HTTP command p{q}, {who}", "ms",
                                 load.p(q) * 1000, baseline=raw.p(q) * 1000 if raw else None,
                                 baseline_label="library", target=P95_TARGET_MS[store] if q == 95 else None))
        floor: Load | None = m.get(f"floor_{clients}")
        if floor is None:
            continue
        floor_errors = f", {floor.errors} failed" if floor.errors else ""
        result.append(Figure(f"floor_{clients}_throughput", f"HTTP + library floor, {who}", "/s", floor.throughput,
                             True, baseline=raw.throughput if raw else None, baseline_label="library: load + save",
                             note=f"{floor.count} requests{floor_errors}; the library's loop behind FastAPI"))
        result.append(Figure(f"floor_{clients}_p95", f"HTTP + library floor p95, {who}", "ms", floor.p(95) * 1000,
                             baseline=raw.p(95) * 1000 if raw else None, baseline_label="library"))
        if clients == 1:
            result.append(Figure("http_1_p95_vs_floor", "HTTP command p95, 1 client, against the floor", "ms",
                                 load.p(95) * 1000, baseline=floor.p(95) * 1000, baseline_label="HTTP + library floor",
                                 target=FLOOR_P95_TARGET_MS[store], note="issue 20's target"))
        else:
            result.append(Figure(f"http_{clients}_throughput_vs_floor", f"HTTP commands, {who}, against the floor",
                                 "/s", load.throughput, True, baseline=floor.throughput,
                                 baseline_label="HTTP + library floor", min_ratio=FLOOR_MIN_RATIO,
                                 note="issue 20's target"))
    if "rebuild" in m:
        events = data["store_events"]
        result.append(Figure("rebuild", "ledger rebuild", "/s", events / m["rebuild"], True, baseline=decode_rate,
                             baseline_label="read + decode", target=50_000, min_ratio=0.5, work=events,
                             note=f"{events} events in {m['rebuild']:.1f} s"))
    for name, load in m.get("reads", {}).items():
        errors = f", {load.errors} failed" if load.errors else ""
        errors += f" ({load.timeouts} timed out at {READ_TIMEOUT:.0f} s)" if load.timeouts else ""
        errors += f", {load.skipped} not run after {load.timeouts} timeouts" if load.skipped else ""
        for q in (50, 95):
            result.append(Figure(
                f"read_{name}_p{q}", f"{READ_LABELS[name]}, p{q}", "ms", load.p(q) * 1000,
                baseline=decode_seconds * 1000, baseline_label="replay all", target=READ_TARGETS_MS[name]
                if q == 95 else None, note=f"{load.count} requests{errors}" if q == 50 else None))
    if "memory" in options.only and "memory" in m:
        idle = m.get("idle_memory", {}).get("VmHWM")
        embedded = data.get("projector", "embedded") == "embedded"
        result.append(Figure("memory", "service peak memory (VmHWM)", "MiB", m["memory"]["VmHWM"] / MIB,
                             baseline=idle / MIB if idle else None, baseline_label="idle, empty store",
                             target=MEMORY_TARGET_MIB,
                             note="the service projects in its own process" if embedded else None))
    if "projector_memory" in m:
        result.append(Figure("projector_memory", "projector process peak memory (VmHWM)", "MiB",
                             m["projector_memory"]["VmHWM"] / MIB, target=MEMORY_TARGET_MIB,
                             scale_ratio=PROJECTING_SCALE_RATIO, note="`ledger project --follow` beside the service"))
    if m.get("rebuild_memory"):
        startup = m.get("startup_memory")
        result.append(Figure("rebuild_memory", "ledger rebuild peak memory (VmHWM)", "MiB", m["rebuild_memory"] / MIB,
                             baseline=startup / MIB if startup else None, baseline_label="ledger migrate, ready store",
                             target=MEMORY_TARGET_MIB, scale_ratio=PROJECTING_SCALE_RATIO))
    if data.get("rows_per_event"):
        result.append(rows_per_citizen_event(writes.Writes.from_json(data["rows_per_event"])))
    result.append(Figure("startup", "ledger start-up (migrate, ready store)", "s", m["startup"],
                         note="informational: part of import and rebuild"))
    for figure in result:
        if figure.met is False:
            figure.reason = why_missed(figure, state.measured, state.data)
    return result
