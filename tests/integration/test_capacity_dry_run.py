"""`ledger import --dry-run` names the facility-months a file would put over capacity
(issue 22, point 6), on both stores: CAP-BO has 2 places and A and B in the store; a file
moving C in for March flags March only (93 present days against 62 capacity days), records
nothing, and exits 0 (a warning, not a refusal)."""

from __future__ import annotations

import json

from service.importer import import_lines
from tests.factories import frame_body, schedule_body
from tests.integration.test_spreadsheet_cli import ADMIN, cli, stored  # noqa: F401

MARCH = "CAP-BO 2026-03: 93 present days exceed 62 capacity days (more citizens than places)"


def crowded_store(ledger) -> None:  # type: ignore[no-untyped-def]
    commands = [{"command": "register-facility", "code": code, "name": code.title(), "kind": "botilbud",
                 "area": "Grenaa", "places": places} for code, places in (("CAP-BO", 2), ("ROOMY-BO", 10))]
    commands += [{"command": "tariff-schedule", "year": 2026, **schedule_body()},
                 {"command": "frame-budget", "code": "CAP-BO", "year": 2026, **frame_body()}]
    commands += [{"command": "move-in", "citizen_ref": ref, "facility": "CAP-BO", "effective_date": "2026-01-01",
                  "paying_municipality": "707", "assessment": {"hours_per_day": "4.5"}} for ref in ("A", "B")]
    import_lines(ledger, [json.dumps(c) for c in commands], ADMIN)


def move_in_c(facility: str) -> str:
    """C in for March and out again, the move-out naming C in lower case (one citizen, counted once)."""
    return "\n".join(json.dumps(c) for c in [
        {"command": "move-in", "citizen_ref": "C", "facility": facility, "effective_date": "2026-03-01",
         "paying_municipality": "707", "assessment": {"hours_per_day": "4.5"}},
        {"command": "move-out", "citizen_ref": "c", "effective_date": "2026-03-31", "kind": "moved"}]) + "\n"


def test_a_dry_run_flags_the_month_a_file_puts_over_capacity_and_records_nothing(ledger, cli, tmp_path):  # noqa: F811
    crowded_store(ledger)
    before = stored(ledger)
    (tmp_path / "crowded.jsonl").write_text(move_in_c("CAP-BO"))
    done = cli("import", "crowded.jsonl", "--dry-run")
    output = " ".join(done.output.split())
    assert done.exit_code == 0, done.output
    assert "capacity warnings (1 month(s) with more citizens than places after this file):" in output
    assert MARCH in output and output.count("present days exceed") == 1
    assert stored(ledger) == before


def test_a_dry_run_of_a_file_within_capacity_warns_of_nothing(ledger, cli, tmp_path):  # noqa: F811
    crowded_store(ledger)
    (tmp_path / "roomy.jsonl").write_text(move_in_c("ROOMY-BO"))
    done = cli("import", "roomy.jsonl", "--dry-run")
    assert done.exit_code == 0, done.output
    assert "would record 2 commands" in " ".join(done.output.split()) and "capacity" not in done.output
