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
            "read_model_rows": {"rm_facility_years": 9000, "rm_facts": 100, "rm_statement_lines": 500, "rm_stays": 400}}
    measurements = {"rebuild": 2.0, "rebuild_cpu": CpuUsage({"rebuild": 1.5}, 1.8, 4.0, 2),
                    "import": 1.0, "import_cpu": CpuUsage({"import": 0.9}, 1.0, 2.0, 2)}
    rebuild = Figure("rebuild", "ledger rebuild", "/s", 500.0, True, baseline=40_000.0, target=50_000, min_ratio=0.5)
    reason = why_missed(rebuild, measurements, data)
    assert "read + decode alone ran at 40 000/s here, below 50 000/s" in reason
    assert "10 000 read-model row versions, 10.0 per event (facility-year rows 9 000)" in reason
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
    data = {"dead_rows_at_reads": {"rm_facility_years": 210_000, "rm_facts": 10, "rm_statement_lines": 5_000,
                                   "rm_stays": 0}}
    assert why_missed(read, {}, data) == (
        "not explained by a measurement of this run; when the reads began, PostgreSQL counted 215 010 dead row "
        "versions in the read models (210 000 of facility-year rows), left since the projector's last VACUUM")


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
