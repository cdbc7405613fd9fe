"""The names the command line records (`--actor` of `ledger import` and `ledger export
statement`, `--name` of `ledger token create`) pass the same CPR guard as every stored text,
on both stores: a refused name is a one-line error, and nothing is stored under it."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from service.db import api_tokens, citizen_reads
from service.importer import import_lines
from tests.integration.test_export_output import one_line
from tests.integration.test_import import example_lines
from tests.integration.test_spreadsheet_cli import ADMIN, cli, stored  # noqa: F401

CPR_ACTOR = "job 01.01.90-1234"


def rows(ledger, table) -> int:  # type: ignore[no-untyped-def]
    with ledger.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


def test_an_import_actor_holding_a_cpr_number_stores_nothing(ledger, cli, tmp_path):  # noqa: F811
    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps({"command": "register-facility", "code": "IMP-1", "name": "Imp", "kind": "botilbud",
                                 "area": "Grenaa", "places": 4}) + "\n")
    done = cli("import", str(lines), "--actor", CPR_ACTOR)
    assert done.exit_code != 0 and "CPR" in one_line(done.output) and "Traceback" not in done.output, done.output
    assert stored(ledger) == (0, 0, 0, 0)
    recorded = cli("import", str(lines), "--actor", "import job 7")
    assert recorded.exit_code == 0, recorded.output
    assert stored(ledger)[0] == 1


def test_a_statement_export_actor_holding_a_cpr_number_logs_no_read(ledger, cli, tmp_path):  # noqa: F811
    import_lines(ledger, example_lines(), ADMIN)
    statement = ("export", "statement", "--municipality", "751", "--year", "2026", "--month", "3",
                 "--format", "csv")
    done = cli(*statement, "--actor", CPR_ACTOR, "--output", str(tmp_path / "a.csv"))
    assert done.exit_code != 0 and "CPR" in one_line(done.output) and "Traceback" not in done.output, done.output
    assert not (tmp_path / "a.csv").exists() and rows(ledger, citizen_reads) == 0


def test_a_token_name_holding_a_cpr_number_is_a_one_line_error(ledger, cli):  # noqa: F811
    done = cli("token", "create", "--role", "auditor", "--name", CPR_ACTOR)
    assert done.exit_code == 1 and "CPR" in one_line(done.output) and "Traceback" not in done.output, done.output
    assert rows(ledger, api_tokens) == 0
