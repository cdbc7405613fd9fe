"""The benchmark suite stays runnable (bench/, docs/benchmarks.md): its generator writes a
history that `ledger import` loads without a refusal, on both stores, and a tiny run of the
harness produces every figure, its table and its comparison. No timing is asserted here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from rich.console import Console

from bench import reads_again
from bench.generate import generate
from bench.scales import SCALES
from bench.harness import Options, run
from bench.report import Results, compare, compare_markdown, markdown, print_results, side_by_side
from tests.e2e.test_serve import LEDGER


def test_the_generated_history_imports_without_a_refusal(settings, tmp_path):
    generated = generate(SCALES["tiny"], 7, tmp_path / "cache")
    again = generate(SCALES["tiny"], 7, tmp_path / "other")
    assert generated.path.read_bytes() == again.path.read_bytes()  # the same seed, the same history
    commands = [json.loads(line) for line in generated.path.read_text().splitlines()]
    kinds = {c["command"] for c in commands}
    assert {"register-facility", "tariff-schedule", "revision", "frame-budget", "move-in", "reassessment",
            "move-out", "accounts", "baseline"} <= kinds
    assert any(c.get("special_tariff") for c in commands) and any(c.get("paying_municipality", "707") != "707"
                                                                   for c in commands)
    assert len(commands) == generated.meta["commands"]
    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url,
                        "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    done = subprocess.run([LEDGER, "import", str(generated.path)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"imported {generated.meta['commands']} commands ({generated.meta['events']} events)" in \
        done.stderr.replace("\n", " ")


def test_a_tiny_run_of_the_harness_gives_every_figure_its_table_and_comparison(tmp_path):
    options = Options(SCALES["tiny"], "sqlite", seed=3, only=("import", "http", "reads"), http_seconds=0.2, samples=0.01,
                      cache=tmp_path / "cache", results=tmp_path / "results")
    results = run(options, Console(file=open(os.devnull, "w")))
    assert results.data["store_events"] > results.data["events"]  # corrections and HTTP commands came on top
    keys = {f.key for f in results.figures}
    assert {"catch_up", "http_1_throughput", "http_8_p95", "read_budget_p95", "read_central_p95", "read_central_as_of_p95",
            "read_explain_p95", "read_regulation_p95", "read_what_if_p95", "startup"} <= keys
    assert all(f.value is not None and f.value > 0 for f in results.figures)
    assert results.details["http_8"]["errors"] == 0 and results.details["reads"]["budget"]["errors"] == 0
    assert results.figure("http_1_throughput").baseline > 0  # the raw library's loop ran beside it
    assert results.figure("import").baseline > 0 and results.details["batched"]["cpu"]["library_ms_per_unit"] > 0
    for clients in (1, 8):  # the HTTP + library floor, driven by the same clients through a real server
        floor = results.details[f"floor_{clients}"]
        assert floor["count"] > 0 and floor["errors"] == 0 and floor["cpu"]["floor_ms_per_unit"] > 0
        assert results.figure(f"floor_{clients}_throughput").baseline == results.figure(
            f"http_{clients}_throughput").baseline
    against = results.figure("http_8_throughput_vs_floor")
    assert against.value == results.figure("http_8_throughput").value and against.min_ratio == 0.5
    assert against.baseline == results.figure("floor_8_throughput").value
    p95 = results.figure("http_1_p95_vs_floor")
    assert p95.value == results.figure("http_1_p95").value and p95.target == 7.0
    assert p95.baseline == results.figure("floor_1_p95").value
    saved = list((tmp_path / "results").glob("tiny-sqlite-*.json"))
    assert len(saved) == 1 and Results.load(saved[0]).figure("read_budget_p95").value == \
        results.figure("read_budget_p95").value
    console = Console(record=True, width=200, file=open(os.devnull, "w"))
    print_results(results, console)
    console.print(compare(results, Results.load(saved[0])))
    text = console.export_text()
    assert "HTTP command p95, 8 clients" in text and "≤ 10.0 ms" in text and "cost ratio" in text
    assert "HTTP + library floor, 8 clients" in text and "against the floor" in text
    rows = markdown(results).splitlines()
    assert sum(1 for row in rows if row.startswith("| ")) == len(results.figures) + 1  # header and a row each
    missed = [f for f in results.figures if f.met is False]
    assert missed and all(f.reason and f"- {f.label}: {f.reason}" in rows for f in missed)
    assert "Missed, and why" in text and all(f.reason.startswith(("per command", "one client")) for f in missed
                                               if f.key.startswith("http_"))
    cpu = results.details["http_8"]["cpu"]
    assert cpu["service_ms_per_unit"] > 0 and cpu["client_ms_per_unit"] > 0 and cpu["all_ms_per_unit"] > 0
    assert compare_markdown(results, results).count("\n| ") == len(results.figures) + 1  # header and a row each
    both = side_by_side([results, Results.load(saved[0])]).splitlines()
    assert len(both) == len(results.figures) + 2 and both[0].count(" tiny SQLite ") == 2  # header, rule, a row each
    assert all(f"| {f.label} | " in "\n".join(both) for f in results.figures)
    assert all(row.count("**") == 4 for row in both if row.startswith(f"| {missed[0].label} | "))


def test_with_an_external_projector_the_service_the_projector_and_the_rebuild_are_measured_apart(tmp_path):
    options = Options(SCALES["tiny"], "sqlite", seed=4, only=("memory", "rebuild"), projector="external",
                      cache=tmp_path / "cache", results=None)
    results = run(options, Console(file=open(os.devnull, "w")))
    assert results.data["projector"] == "external"
    assert results.figure("catch_up").value > 0  # the projector process brought the read models up
    service, projector = results.figure("memory"), results.figure("projector_memory")
    rebuild = results.figure("rebuild_memory")
    assert service.value > 0 and projector.value > 0 and rebuild.value > rebuild.baseline > 0  # over `ledger migrate`
    assert service.target == projector.target == rebuild.target == 512
    assert projector.scale_ratio == rebuild.scale_ratio == 1.5
    written = results.data["rows_per_event"]
    assert written["all_events"]["events"] == results.data["store_events"]
    rows = results.data["read_model_rows"]
    assert set(written["tables"]) & set(rows) and all(
        written["all_events"]["by_table"][table] + written["unattributed"].get(table, 0) == rows[table]
        for table in set(written["tables"]) & set(rows))
    assert written["types"]["CitizenMovedIn"]["rows"] > 0 and written["citizen_events"]["per_event"] > 0
    per_citizen_event = results.figure("rows_per_citizen_event")
    assert per_citizen_event.value == written["citizen_events"]["rows"] / written["citizen_events"]["events"]
    assert "Read-model row versions `ledger rebuild` wrote, per event, by event type" in markdown(results)


def test_the_reads_are_measured_again_on_a_kept_store(tmp_path, capsys):
    options = Options(SCALES["tiny"], "sqlite", seed=5, keep=True, only=(), cache=tmp_path / "cache", results=None)
    kept = run(options, Console(file=open(os.devnull, "w"))).data["kept"]
    store = (kept["kind"], kept["url"], kept["schema"], Path(kept["directory"]))
    try:
        reads_again.main(*store, samples=0.01, first_year=2024, last_year=2026, seed=1)
        everything = capsys.readouterr().out.splitlines()
        reads_again.main(*store, samples=0.01, first_year=2024, last_year=2026, seed=1, reads="budget, explain")
        some = capsys.readouterr().out.splitlines()
        with pytest.raises(typer.BadParameter, match="unknown read.*budgets"):
            reads_again.main(*store, reads="budget,budgets")
    finally:
        shutil.rmtree(kept["directory"], ignore_errors=True)
    assert everything[0].startswith("the projector replayed the store in ")
    reads = {line.split()[0]: line for line in everything[1:]}
    assert set(reads) == {"budget", "central", "central_as_of", "explain", "regulation", "what_if"}
    assert all(line.endswith("failed 0") and " p95 " in line for line in reads.values())
    assert [line.split()[0] for line in some[1:]] == ["budget", "explain"]


def test_the_store_counts_its_rows_and_on_postgresql_its_dead_versions(ledger, settings, store, tmp_path):
    from bench.store import Database
    from service.db import READ_MODEL_TABLES

    database = Database(store, settings.database_url, settings.database_schema, tmp_path)
    assert database.row_counts(READ_MODEL_TABLES + ("api_tokens",)) == {**{t: 0 for t in READ_MODEL_TABLES},
                                                                        "api_tokens": 0}
    dead = database.dead_rows(READ_MODEL_TABLES)
    assert dead is None if store == "sqlite" else dead == {t: 0 for t in READ_MODEL_TABLES}


def test_the_costs_of_a_command_and_of_a_rebuild_are_taken_apart_step_by_step(settings, store, tmp_path):
    from bench import costs

    results = costs.run(SCALES["tiny"], store, seed=6, http_seconds=0.2, say=lambda *_: None, cache=tmp_path / "cache")
    assert results.scale == "costs-tiny"
    details = results.details
    # the store: the history, then one event for each command in process (counted or warm-up), none from the floor
    warmups = costs.WARMUP * sum(costs.CLIENTS)
    assert results.data["store_events"] == results.data["events"] + details["ledger_1"]["count"] + \
        details["ledger_8"]["count"] + warmups
    seconds = details["projection_seconds"]
    assert set(seconds) == set(costs.STEPS) and all(seconds[step] > 0 for step in costs.STEPS)
    assert seconds["stays"] > seconds["replay"]  # the replay, and the stays derived on top
    read_and_decode = results.data["store_events"] / (seconds["read"] + seconds["decode"])
    for step in ("replay", "stays", "rows"):
        ceiling = results.figure(f"ceiling_{step}")
        assert ceiling.baseline == pytest.approx(read_and_decode, rel=1e-3) and 0 < ceiling.ratio < 1  # each step costs more
        assert ceiling.value == pytest.approx(rel=1e-3, expected=results.data["store_events"] / (seconds["read"] + seconds["decode"]
                                                                               + seconds[step]))
    for clients in costs.CLIENTS:
        ours, raw = results.details[f"ledger_{clients}"], results.details[f"raw_{clients}"]
        assert ours["count"] > 0 and ours["errors"] == 0 and raw["count"] > 0 and raw["errors"] == 0
        assert results.figure(f"ledger_{clients}_throughput").baseline == raw["throughput_per_s"]
        assert ours["cpu"]["bench_ms_per_unit"] > 0
    console = Console(record=True, width=200, file=open(os.devnull, "w"))
    print_results(results, console)
    floor = results.details["floor_1"]
    assert floor["count"] > 0 and floor["errors"] == 0 and floor["cpu"]["service_ms_per_unit"] > 0
    assert results.figure("floor_1_throughput").baseline == results.details["raw_1"]["throughput_per_s"]
    assert "projection ceiling: every row version" in console.export_text()
    assert sum(1 for row in markdown(results).splitlines() if row.startswith("| ")) == len(results.figures) + 1
