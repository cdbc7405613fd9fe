"""A missed benchmark target states its reason in the run's own measurements (bench/reasons.py,
bench/cpu.py): where the CPU went, what the job wrote, and what the library's baseline reaches."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.cpu import CpuUsage, measured
from bench.load import Load
from bench.reasons import why_missed
from bench.report import Figure


def test_cpu_is_measured_for_the_named_processes_the_children_and_the_machine():
    with measured({"self": os.getpid()}, children="child") as usage:
        total = 0
        for i in range(3_000_000):  # about a second of this process's CPU
            total += i * i
        subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    assert usage.processes["self"] > 0.05 and usage.processes["child"] > 0.05
    assert usage.machine_busy >= usage.processes["self"] + usage.processes["child"] - 0.1
    assert 0 < usage.busy_share <= 1
    per = usage.per(10)
    assert per["all"] == max(usage.machine_busy, sum(usage.processes.values())) * 100 and per["other"] >= 0


def test_the_http_reasons_split_the_cpu_per_command_and_bound_the_throughput_and_the_latency():
    load = Load(latencies=[0.004] * 1000, wall=10.0)
    usage = CpuUsage(processes={"service": 4.0, "projector": 1.5, "client": 1.0}, machine_busy=8.0,
                     machine_all=20.0, cores=2)
    raw, raw_usage = Load(latencies=[0.001] * 4000, wall=2.0), CpuUsage({"library": 1.0}, 2.0, 4.0, 2)
    measurements = {"http_8": load, "http_8_cpu": usage, "raw_8": raw, "raw_8_cpu": raw_usage}
    throughput = Figure("http_8_throughput", "HTTP commands, 8 clients", "/s", 100.0, True, baseline=2000.0,
                        min_ratio=0.5)
    reason = why_missed(throughput, measurements, {})
    assert "8.0 ms of CPU (service 4.0, projector 1.5, client 1.0, database, kernel and the rest 1.5)" in reason
    assert "against 0.50 ms in the library's loop" in reason
    assert "2 cores allow at most 250/s, the target asks 1 000/s" in reason
    one = {"http_1": Load(latencies=[0.005] * 100, wall=0.5), "http_1_cpu": usage, "raw_1": raw, "raw_1_cpu": raw_usage}
    reason = why_missed(Figure("http_1_throughput", "HTTP commands, 1 client", "/s", 200.0, True, baseline=2000.0,
                               min_ratio=0.5), one, {})
    assert reason.startswith("one client sends a command when the last one is answered, so the throughput is 1 / "
                             "the mean latency of 5.0 ms; the library's loop takes 1.00 ms; per command")
    p95 = Figure("http_8_p95", "HTTP command p95, 8 clients", "ms", 60.0, target=15.0)
    assert "≥ 8 × 8.0 ms / 2 cores = 32 ms (Little's law)" in why_missed(p95, measurements, {})


def test_the_rebuild_and_import_reasons_name_the_baseline_below_the_target_and_what_was_written():
    data = {"store_events": 1000, "commands": 900,
            "read_model_rows": {"rm_budget_months": 9000, "rm_facts": 100, "rm_statement_lines": 500, "rm_stays": 400}}
    measurements = {"rebuild": 2.0, "rebuild_cpu": CpuUsage({"rebuild": 1.5}, 1.8, 4.0, 2),
                    "import": 1.0, "import_cpu": CpuUsage({"import": 0.9}, 1.0, 2.0, 2)}
    rebuild = Figure("rebuild", "ledger rebuild", "/s", 500.0, True, baseline=40_000.0, target=50_000, min_ratio=0.5)
    reason = why_missed(rebuild, measurements, data)
    assert "read + decode alone ran at 40 000/s here, below 50 000/s" in reason
    assert "10 000 read-model row versions, 10.0 per event (rm_budget_months 9 000)" in reason
    assert "1500 µs of the rebuild's CPU per event" in reason and "against 25 µs to read and decode one" in reason
    imported = Figure("import", "ledger import", "/s", 900.0, True, baseline=12_000.0, target=20_000)
    reason = why_missed(imported, measurements, data)
    assert "1.000 ms of CPU per command" in reason and "leaves 0.050 ms per command" in reason
    assert "batched appends of ready-made events ran at 12 000/s here, below the target" in reason
    above = Figure("import", "ledger import", "/s", 900.0, True, baseline=30_000.0, target=20_000)
    assert "batched appends" not in why_missed(above, measurements, data)


def test_a_miss_no_measurement_explains_says_so():
    read = Figure("read_budget_p95", "budget of a facility-year, random as_of, p95", "ms", 80.0, target=50.0)
    assert why_missed(read, {}, {}) == "not explained by a measurement of this run"


def test_a_read_miss_on_postgresql_names_the_dead_row_versions_when_the_reads_began():
    read = Figure("read_budget_p95", "budget of a facility-year, random as_of, p95", "ms", 80.0, target=50.0)
    data = {"dead_rows_at_reads": {"rm_budget_months": 210_000, "rm_facts": 10, "rm_statement_lines": 5_000,
                                   "rm_stays": 0}}
    assert why_missed(read, {}, data) == (
        "not explained by a measurement of this run; when the reads began, PostgreSQL counted 215 010 dead row "
        "versions in the read models (210 000 in rm_budget_months), left since the projector's last VACUUM")


def test_a_load_starts_counting_once_every_client_has_warmed_up():
    from bench.load import drive

    class Counting:
        def __init__(self) -> None:
            self.steps = 0

        def step(self) -> None:
            self.steps += 1

        def close(self) -> None:
            pass

    clients = [Counting() for _ in range(3)]
    seen_at_start: list[int] = []
    with measured({"here": os.getpid()}) as usage:
        sum(i * i for i in range(2_000_000))  # CPU before the start, which restart() forgets
        load = drive(clients, steps=5, warmup=2,
                     on_start=lambda: (seen_at_start.append(sum(c.steps for c in clients)), usage.restart()))
    assert seen_at_start == [6]  # called once, after 2 warm-up steps of each of the 3 clients
    assert load.count == 15 and sum(c.steps for c in clients) == 21
    assert usage.processes["here"] < 0.05  # the loop before the start is not counted


ROWS_PER_EVENT = {
    "tables": ["rm_a", "rm_b"],
    "types": {
        "FacilityRegistered": {"events": 2, "rows": 2, "per_event": 1.0, "most": 1, "citizen": False,
                               "by_table": {"rm_a": 2, "rm_b": 0}},
        "CitizenMovedIn": {"events": 10, "rows": 240, "per_event": 24.0, "most": 120, "citizen": True,
                           "by_table": {"rm_a": 230, "rm_b": 10}},
        "EntryRetracted (CitizenMovedIn)": {"events": 1, "rows": 3, "per_event": 3.0, "most": 3, "citizen": True,
                                            "by_table": {"rm_a": 2, "rm_b": 1}},
    },
    "citizen_events": {"events": 11, "rows": 243, "per_event": 22.0909, "most": 120, "citizen": True,
                       "by_table": {"rm_a": 232, "rm_b": 11}},
    "all_events": {"events": 13, "rows": 245, "per_event": 18.8462, "most": 120, "citizen": False,
                   "by_table": {"rm_a": 234, "rm_b": 11}},
    "unattributed": {}, "uncounted": {"rm_c": 4}, "postgresql_writes": None,
}


def test_the_rebuild_reason_names_the_event_types_that_wrote_the_most_row_versions():
    data = {"store_events": 13, "read_model_rows": {"rm_a": 234, "rm_b": 11}, "rows_per_event": ROWS_PER_EVENT}
    rebuild = Figure("rebuild", "ledger rebuild", "/s", 500.0, True, baseline=40_000.0, target=50_000, min_ratio=0.5)
    reason = why_missed(rebuild, {"rebuild": 1.0}, data)
    assert "245 read-model row versions, 18.8 per event (rm_a 234)" in reason
    assert ("most of them by CitizenMovedIn (240: 24.0 per event, at most 120), EntryRetracted (CitizenMovedIn) "
            "(3: 3.0 per event, at most 3), FacilityRegistered (2: 1.0 per event, at most 1); 22.1 per citizen "
            "event") in reason


def test_a_peak_memory_over_its_target_is_read_against_the_history_it_held():
    from bench.report import MIB

    data = {"store_events": 100_000, "store_bytes": 200 * MIB, "projector": "embedded",
            "rows_per_event": ROWS_PER_EVENT}
    measured = {"startup_memory": 80 * MIB, "idle_memory": {"VmHWM": 100 * MIB}}
    rebuild = Figure("rebuild_memory", "ledger rebuild peak memory (VmHWM)", "MiB", 880.0, target=512)
    assert why_missed(rebuild, measured, data) == (
        "880 MiB at 100 000 events in the store; 800 MiB above `ledger migrate` (80 MiB): 8.19 KiB per event of the "
        "history; 4.00× the store's 200 MiB on disk; the projection wrote 18.8 row versions per event")
    service = Figure("memory", "service peak memory (VmHWM)", "MiB", 600.0, target=512)
    reason = why_missed(service, measured, data)
    assert reason.startswith("600 MiB at 100 000 events in the store; 500 MiB above an idle service on an empty "
                             "store (100 MiB)")
    assert reason.endswith("the service projected in its own process (--projector external measures them apart)")
    assert why_missed(service, {}, {}) == "not explained by a measurement of this run"


def test_the_growth_from_one_scale_to_the_next_is_held_to_each_figures_bound():
    from bench.report import Results, compare_markdown, growth, target_text

    def run(events: int, memory: float, rows: float) -> Results:
        return Results("s", "sqlite", 1, "", "", {}, {"store_events": events}, [
            Figure("rebuild", "ledger rebuild", "/s", events / 10, True, work=events),
            Figure("rebuild_memory", "rebuild memory", "MiB", memory, target=512, scale_ratio=1.5),
            Figure("rows_per_citizen_event", "rows per citizen event", "rows", rows, growth=0.0)])

    _, rows = growth(run(100_000, 300.0, 3.0), run(1_000_000, 500.0, 3.1))
    verdicts = {row[0]: (row[-2], row[-1]) for row in rows}
    assert verdicts == {"ledger rebuild": ("k ≤ 1", "yes"), "rebuild memory": ("k ≤ 1, ratio ≤ 1.5", "no"),
                        "rows per citizen event": ("k ≤ 0", "yes")}
    _, rows = growth(run(100_000, 300.0, 3.0), run(1_000_000, 400.0, 9.0))
    assert {row[0]: row[-1] for row in rows} == {"ledger rebuild": "yes", "rebuild memory": "yes",
                                                 "rows per citizen event": "no"}
    assert "| rows per citizen event | 3.00 rows | 9.00 rows | 3 | 0.48 | k ≤ 0 | no |" in compare_markdown(
        run(100_000, 300.0, 3.0), run(1_000_000, 400.0, 9.0))
    assert target_text(run(1, 1.0, 1.0).figures[1]) == "≤ 512 MiB and ≤ 1.5× the smaller scale's (compare)"
