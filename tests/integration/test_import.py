"""`ledger import` on both stores: the worked example as JSON Lines gives the example's
figures; batches are all or nothing; a bad line is named and the import resumes after it."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal

import pytest

from service.importer import ImportFailed, import_lines
from service.ledger import Actor, Timeline
from service.projection import Projector
from service.read_models import BudgetReads
from tests.e2e.test_serve import LEDGER
from tests.factories import døgnskema, frame_body, schedule_body

ADMIN = Actor("importer", "admin")


def example_lines() -> list[str]:
    commands = [
        {"command": "register-facility", "code": "GRENAA-BO", "name": "Grenaa Bo", "kind": "botilbud",
         "area": "Grenaa", "places": 10},
        {"command": "tariff-schedule", "year": 2026, **schedule_body()},
        {"command": "tariff-schedule", "year": 2027, **schedule_body(Decimal("1.03"), "432.60")},
        {"command": "frame-budget", "code": "GRENAA-BO", "year": 2026, **frame_body()},
        {"command": "move-in", "citizen_ref": "A", "facility": "GRENAA-BO", "effective_date": "2026-03-10",
         "paying_municipality": "707", "assessment": døgnskema(270)},
        {"command": "reassessment", "citizen_ref": "A", "effective_date": "2026-05-16",
         "assessment": {"hours_per_day": "6.5"}},
        {"command": "move-out", "citizen_ref": "A", "effective_date": "2026-08-20", "kind": "moved"},
        {"command": "move-in", "citizen_ref": "B", "facility": "GRENAA-BO", "effective_date": "2026-09-01",
         "paying_municipality": "751", "assessment": {"hours_per_day": "1.5"}},
        {"command": "reassessment", "citizen_ref": "A", "effective_date": "2026-04-01",
         "assessment": {"hours_per_day": "8.25"}, "reason": "Revurdering efter møde"},
    ]
    return [json.dumps(c) for c in commands]


def figures(ledger, position):  # type: ignore[no-untyped-def]
    projector = Projector(ledger.settings)
    projector.catch_up()
    projector.close()
    return BudgetReads(ledger).facility_year("GRENAA-BO", 2026, position)


def test_the_worked_example_imported_in_batches_gives_its_figures(ledger):
    result = import_lines(ledger, example_lines(), ADMIN, batch_size=4)
    assert (result.commands, result.events, result.last_position) == (9, 9, 9)
    at_8, at_9 = figures(ledger, 8), figures(ledger, 9)
    assert (at_8.totals().activity, at_9.totals().activity) == (Decimal("579800.00"), Decimal("642800.00"))
    assert at_9.basistakst == Decimal("1000.00")


def test_an_import_that_lets_go_of_stored_aggregates_reads_them_again(ledger, monkeypatch):
    """Once a batch is stored only the last used aggregate is kept (`IMPORT_HELD` 1): the
    facility, the schedules and citizen A are read again from the store when a later line
    needs them, and a stream the import created is not taken for a new one."""
    monkeypatch.setattr(ledger, "IMPORT_HELD", 1)
    result = import_lines(ledger, example_lines(), ADMIN, batch_size=1)
    assert (result.commands, result.events, result.last_position) == (9, 9, 9)
    assert figures(ledger, 9).totals().activity == Decimal("642800.00")
    assert [f["type"] for f in ledger.citizen("A").stays[0].facts][-1] == "CitizenReassessed"


def test_a_bad_line_stores_nothing_of_its_batch_and_the_import_resumes_after_it(ledger):
    lines = example_lines()
    lines[5] = json.dumps({"command": "reassessment", "citizen_ref": "NOBODY", "effective_date": "2026-05-16",
                           "assessment": {"hours_per_day": "6.5"}})
    with pytest.raises(ImportFailed) as failed:
        import_lines(ledger, lines, ADMIN, batch_size=4)
    assert (failed.value.line, failed.value.rule, failed.value.stored_through) == (6, "unknown_citizen", 4)
    assert "line 6" in str(failed.value) and "--skip 4" in str(failed.value)
    assert Timeline(ledger.engine).max_position() == 4  # lines 1-4: the first batch; nothing of lines 5-6
    import_lines(ledger, example_lines(), ADMIN, batch_size=4, skip=4)
    assert figures(ledger, 9).totals().activity == Decimal("642800.00")


@pytest.mark.parametrize("line,field,rule", [
    ("{not json", None, "invalid_json"),
    ("[" * 100_000 + "]" * 100_000, None, "invalid_json"),
    ('{"command": "move-out", "citizen_ref": "A", "x": ' + "9" * 5000 + "}", None, "invalid_json"),
    ('{"command": "teleport"}', "command", "unknown_command"),
    ('{"command": "move-out", "effective_date": "2026-01-01", "kind": "moved"}', "citizen_ref", "required"),
    ('{"command": "move-out", "citizen_ref": "A", "effective_date": "2026-01-01", "kind": "moved", "x": 1}', "x",
     "invalid_input"),
    ('{"command": "register-facility", "code": "010101-1234", "name": "n", "kind": "botilbud", "area": "a", '
     '"places": 1}', "code", "cpr_number_refused"),
    ('{"command": "move-out", "citizen_ref": "A", "citizen_ref": "B", "effective_date": "2026-01-01", '
     '"kind": "moved"}', "citizen_ref", "duplicate_key"),
    ('{"command": "register-facility", "code": "X", "name": "n", "kind": "botilbud", "area": "a", "area": "b", '
     '"places": 1}', "area", "duplicate_key"),
])
def test_a_bad_line_is_named_with_its_field_and_rule(ledger, line, field, rule):
    with pytest.raises(ImportFailed) as failed:
        import_lines(ledger, [example_lines()[0], line], ADMIN)
    assert (failed.value.line, failed.value.field, failed.value.rule) == (2, field, rule)
    assert Timeline(ledger.engine).max_position() == 0


def test_commands_of_one_batch_see_each_other_retraction_included(ledger):
    import_lines(ledger, example_lines()[:5], ADMIN)
    lines = [json.dumps({"command": "move-out", "citizen_ref": "A", "effective_date": "2026-04-30", "kind": "moved"})]
    import_lines(ledger, lines, ADMIN)
    move_out = ledger.citizen("A").stays[0].facts[-1]["event_id"]
    result = import_lines(ledger, [
        json.dumps({"command": "move-in", "citizen_ref": "B", "facility": "GRENAA-BO", "effective_date": "2026-06-01",
                    "paying_municipality": "751", "assessment": {"hours_per_day": "1.5"}}),
        json.dumps({"command": "retraction", "event_id": move_out, "reason": "flyttede ikke"}),
        json.dumps({"command": "move-out", "citizen_ref": "A", "effective_date": "2026-05-31", "kind": "moved"}),
    ], ADMIN)
    assert result.commands == 3 and ledger.citizen("A").stays[0].move_out.isoformat() == "2026-05-31"


def test_ledger_import_on_the_command_line(settings, tmp_path):
    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(example_lines()) + "\n")
    done = subprocess.run([LEDGER, "import", str(good), "--batch-size", "3"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "imported 9 commands (9 events)" in done.stderr.replace("\n", " ")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"command": "move-out", "citizen_ref": "B", "effective_date": "2026-01-01",
                               "kind": "moved"}) + "\n")
    failed = subprocess.run([LEDGER, "import", str(bad)], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode == 1 and "line 1" in failed.stderr
