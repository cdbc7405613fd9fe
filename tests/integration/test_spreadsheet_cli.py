"""`ledger export` and `ledger import` of the old model's CSV (with `--dry-run`), run through the
real command line (typer's CliRunner, in process) on both stores."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from domain.citizen import citizen_id
from domain.errors import NotFound
from service.cli import app
from service.db import citizen_reads, ledger_chain, ledger_entries
from service.importer import import_lines
from service.ledger import Actor
from tests.conftest import _conninfo
from tests.factories import frame_body, schedule_body
from tests.integration.test_import import example_lines

ADMIN = Actor("importer", "admin")
OLD_MODEL = (
    "\ufeffborger;tilbud;indflytningsdato;timer_pr_dag;betalingskommune\r\n"
    "OLD-1;GRENAA-BO;01-01-2026;4,5;707\r\n"
    "OLD-2;GRENAA-BO;2026-01-15;1,5;751\r\n"
    "\r\n"
    "OLD-3;AUNING-BO;01.02.2026;10;730\r\n"
)


@pytest.fixture
def cli(settings, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Runs `ledger ...` against the test's store, in tmp_path."""
    monkeypatch.chdir(tmp_path)
    env = {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env)

    return run


def stored(ledger) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    """The store's events as counted four ways: notification ids, events, index rows, chain links."""
    with ledger.engine.connect() as connection:
        entries = connection.execute(select(func.count()).select_from(ledger_entries)).scalar()
        links = connection.execute(select(func.count()).select_from(ledger_chain)).scalar()
    notifications = ledger.recorder.select_notifications(start=None, limit=1_000_000)
    return ledger.recorder.max_notification_id() or 0, len(notifications), entries, links


def municipality(ledger) -> None:  # type: ignore[no-untyped-def]
    """Two facilities, the 2026 schedule and a frame budget each, as an import would load them."""
    commands = [{"command": "register-facility", "code": code, "name": code.title(), "kind": "botilbud",
                 "area": "Grenaa", "places": 10} for code in ("GRENAA-BO", "AUNING-BO")]
    commands += [{"command": "tariff-schedule", "year": 2026, **schedule_body()}]
    commands += [{"command": "frame-budget", "code": code, "year": 2026, **frame_body()}
                 for code in ("GRENAA-BO", "AUNING-BO")]
    import_lines(ledger, [json.dumps(c) for c in commands], ADMIN)


# Export -------------------------------------------------------------------------------------

def test_export_central_brings_the_projections_up_and_writes_the_workbook(ledger, cli, tmp_path):
    import_lines(ledger, example_lines(), ADMIN)  # nothing has projected these events yet
    done = cli("export", "central", "--year", "2026", "--format", "xlsx")
    assert done.exit_code == 0, done.output
    assert "central-2026.xlsx" in done.output and "position 9" in done.output
    book = load_workbook(tmp_path / "central-2026.xlsx")
    header, row, totals = list(book["Budget"].iter_rows(values_only=True))
    figures = dict(zip(header, row))
    assert (figures["Tilbud"], figures["Budget i alt (kr.)"], figures["Belægningsdage"]) == \
        ("GRENAA-BO", 4292800, 286)
    assert Decimal(str(figures["Aktivitetsbudget (kr.)"])) == Decimal("642800.00")


def test_export_central_for_a_month_as_of_a_position_as_csv(ledger, cli, tmp_path):
    import_lines(ledger, example_lines(), ADMIN)
    done = cli("export", "central", "--year", "2026", "--month", "4", "--format", "csv", "--as-of-position", "8")
    assert done.exit_code == 0, done.output
    text = (tmp_path / "central-2026-04.csv").read_bytes().decode("utf-8-sig")
    april = next(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert april["Budget i alt (kr.)"] == "364166,67"  # as of position 8: before the retroactive level 5
    out = tmp_path / "april.csv"
    assert cli("export", "central", "--year", "2026", "--month", "4", "--format", "csv", "-o", str(out)).exit_code == 0
    assert "406166,67" in out.read_bytes().decode("utf-8-sig")


def test_export_refuses_bad_options_naming_them(ledger, cli):
    import_lines(ledger, example_lines(), ADMIN)
    for args, option in [(("--format", "pdf"), "--format"), (("--as-of-position", "99"), "--as-of-position"),
                         (("--as-of", "2999-01-01T00:00:00+00:00"), "--as-of"), (("--as-of", "yesterday"), "--as-of")]:
        done = cli("export", "central", "--year", "2026", *args)
        assert done.exit_code == 2 and option in done.output, (args, done.output)


def test_export_statement_writes_it_and_logs_the_citizen_read(ledger, cli, tmp_path):
    import_lines(ledger, example_lines(), ADMIN)
    done = cli("export", "statement", "--municipality", "751", "--year", "2026", "--month", "9", "--format", "xlsx")
    assert done.exit_code == 0, done.output
    header, period, total = list(load_workbook(tmp_path / "afregning-751-2026-09.xlsx")["Afregning"]
                                 .iter_rows(values_only=True))
    assert dict(zip(header, period))["Beløb (kr.)"] == 48000 and total[0] == "I alt"
    with ledger.engine.connect() as connection:
        (read,) = connection.execute(select(citizen_reads)).all()
    assert (read.citizen_ref, read.reader, read.role) == ("B", "ledger export", "finance")
    for code in ("707", "abc", "../zz", "7510"):
        refused = cli("export", "statement", "--municipality", code, "--year", "2026", "--month", "9")
        assert refused.exit_code == 2 and "--municipality" in refused.output, (code, refused.output)
    assert [path.name for path in tmp_path.glob("afregning-*")] == ["afregning-751-2026-09.xlsx"]


def test_export_statement_logs_a_citizen_shown_only_as_changed_since(ledger, cli, tmp_path):
    import_lines(ledger, example_lines(), ADMIN)  # B moves in at position 8
    done = cli("export", "statement", "--municipality", "751", "--year", "2026", "--month", "9",
               "--as-of-position", "7", "--format", "csv")
    assert done.exit_code == 0, done.output
    (header, total) = list(csv.reader(io.StringIO((tmp_path / "afregning-751-2026-09.csv").read_bytes()
                                                  .decode("utf-8-sig")), delimiter=";"))
    assert total[0] == "I alt"  # no line as of position 7
    with ledger.engine.connect() as connection:
        assert [row.citizen_ref for row in connection.execute(select(citizen_reads))] == ["B"]


# Import of the old model --------------------------------------------------------------------

def test_the_old_models_citizens_are_imported_with_level_and_payer(ledger, cli, tmp_path):
    municipality(ledger)
    (tmp_path / "borgere.csv").write_text(OLD_MODEL.replace("10;730", "10,25;730"), encoding="utf-8")
    done = cli("import", "borgere.csv")
    assert done.exit_code == 0, done.output
    assert "imported 3 commands (3 events)" in done.output
    expected = {"OLD-1": ("GRENAA-BO", date(2026, 1, 1), 3, "707"), "OLD-2": ("GRENAA-BO", date(2026, 1, 15), 1, "751"),
                "OLD-3": ("AUNING-BO", date(2026, 2, 1), 6, "730")}
    for ref, (facility, moved_in, level, payer) in expected.items():
        (stay,) = ledger.citizen(ref).stays
        condition = stay.condition_on(moved_in)
        assert (stay.facility, stay.move_in, condition.level, condition.paying_municipality) == \
            (facility, moved_in, level, payer)
    first = next(iter(ledger.events.get(citizen_id("OLD-3"))))
    assert (first.meta.reason, first.meta.case_ref, first.meta.actor) == \
        ("overført fra gammel model", "gammel model borgere.csv linje 5", "import")


def test_a_dry_run_reports_what_it_would_record_and_changes_nothing(ledger, cli, tmp_path):
    municipality(ledger)
    before = stored(ledger)
    (tmp_path / "borgere.csv").write_text(OLD_MODEL, encoding="utf-8")
    done = cli("import", "borgere.csv", "--dry-run")
    assert done.exit_code == 0, done.output
    assert "nothing was recorded" in done.output and "would record 3 commands (3 events)" in done.output
    assert "GRENAA-BO: 2 move-in" in done.output and "AUNING-BO: 1 move-in" in done.output
    assert stored(ledger) == before
    (tmp_path / "example.jsonl").write_text("\n".join(example_lines()[4:]) + "\n")
    jsonl = cli("import", "example.jsonl", "--dry-run")  # the example's citizens at the facility loaded above
    assert jsonl.exit_code == 0 and "would record 5 commands (5 events)" in jsonl.output, jsonl.output
    assert stored(ledger) == before


def test_a_dry_run_does_not_migrate_a_store_without_its_schema(settings, cli, tmp_path):
    (tmp_path / "borgere.csv").write_text(OLD_MODEL, encoding="utf-8")
    (tmp_path / "example.jsonl").write_text("\n".join(example_lines()) + "\n")
    for name in ("borgere.csv", "example.jsonl"):
        done = cli("import", name, "--dry-run")
        assert done.exit_code == 1 and "ledger migrate" in " ".join(done.output.split()), done.output
    if settings.store == "sqlite":
        assert not settings.sqlite_path.exists()
    else:
        with psycopg.connect(_conninfo()) as connection:
            assert connection.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
                                      (settings.database_schema,)).fetchone() is None


def test_bad_rows_are_each_named_by_line_and_column_and_nothing_is_stored(ledger, cli, tmp_path):
    municipality(ledger)
    before = stored(ledger)
    rows = OLD_MODEL + ("010190-1234;GRENAA-BO;01-03-2026;2;707\r\n"  # line 6: CPR-shaped
                        "OLD-4;NOWHERE;01-03-2026;2;707\r\n"  # line 7: no such facility
                        "OLD-5;GRENAA-BO;31-02-2026;2;707\r\n"  # line 8: not a date
                        "OLD-1;AUNING-BO;01-03-2026;2;707\r\n"  # line 9: OLD-1 moved in on line 2
                        "OLD-6;GRENAA-BO;01-03-2026;19;707\r\n"  # line 10: above level 8, no special tariff
                        "OLD-7;GRENAA-BO;01-03-2026;2;7070\r\n")  # line 11: not a municipality code
    (tmp_path / "borgere.csv").write_text(rows, encoding="utf-8")
    for args in (("--dry-run",), ()):
        done = cli("import", "borgere.csv", *args)
        assert done.exit_code == 1, done.output
        output = " ".join(done.output.split())
        for expected in ("line 6, field borger:", "(cpr_number_refused)", "line 7, field tilbud:",
                         "(unknown_facility)", "line 8, field indflytningsdato:", "(invalid_date)",
                         "line 9, field indflytningsdato:", "(open_stay_exists)", "line 10, field timer_pr_dag:",
                         "(level_8_needs_special_tariff)", "line 11, field betalingskommune:"):
            assert expected in output, (expected, output)
        assert "010190-1234" not in output
        assert stored(ledger) == before
    assert "would record 3 commands" in " ".join(cli("import", "borgere.csv", "--dry-run").output.split())


def test_a_row_refused_when_stored_leaves_nothing_of_the_file_stored(ledger, cli, tmp_path, monkeypatch):
    import service.import_check as import_check

    municipality(ledger)
    checked = import_check.check_lines

    def check_then_another_writer(*args, **kwargs):  # type: ignore[no-untyped-def]
        report = checked(*args, **kwargs)  # the file passes its check; then OLD-3 moves in elsewhere
        import_lines(ledger, [json.dumps({"command": "move-in", "citizen_ref": "OLD-3", "facility": "GRENAA-BO",
                                          "effective_date": "2026-01-01", "paying_municipality": "707",
                                          "assessment": {"hours_per_day": "1"}})], ADMIN)
        return report

    monkeypatch.setattr(import_check, "check_lines", check_then_another_writer)
    (tmp_path / "borgere.csv").write_text(OLD_MODEL, encoding="utf-8")
    before = stored(ledger)
    done = cli("import", "borgere.csv", "--batch-size", "1")
    output = " ".join(done.output.split())
    assert done.exit_code == 1 and "nothing was stored" in output and "line 5, field indflytningsdato" in output, output
    assert stored(ledger)[0] == before[0] + 1  # only the other writer's move-in
    for ref in ("OLD-1", "OLD-2"):
        with pytest.raises(NotFound):
            ledger.citizen(ref)


def test_english_headers_commas_and_a_special_tariff(ledger, cli, tmp_path):
    municipality(ledger)
    (tmp_path / "old.txt").write_text(
        "citizen_ref,facility,move_in_date,hours_per_day,paying_municipality,special_tariff,special_tariff_daily_rate\n"
        'OLD-8,GRENAA-BO,2026-03-01,"19,5",707,S1,"7000,00"\n', encoding="utf-8")
    done = cli("import", "old.txt", "--format", "old-model-csv")
    assert done.exit_code == 0, done.output
    condition = ledger.citizen("OLD-8").stays[0].condition_on(date(2026, 3, 1))
    assert (condition.level, condition.special_tariff, condition.special_rate) == (None, "S1", Decimal("7000.00"))
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("borger;tilbud;indflytningsdato;timer_pr_dag;navn\n", encoding="utf-8")
    refused = cli("import", str(unknown))
    output = " ".join(refused.output.split())
    assert refused.exit_code == 1 and "line 1, field navn:" in output and "(unknown_column)" in output
    assert "line 1, field paying_municipality:" in output and "(missing_column)" in output


def test_every_ledger_command_runs_with_the_ledgers_garbage_collector_thresholds(monkeypatch):
    """`ledger ...` sets them before the command runs (docs/adr/0016)."""
    import gc

    from service import cli

    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    monkeypatch.setattr(cli, "app", lambda: seen.append(gc.get_threshold()))
    try:
        cli.main()
    finally:
        gc.set_threshold(*before)
    assert seen == [cli.GC_THRESHOLDS] and cli.GC_THRESHOLDS[0] >= 10_000
