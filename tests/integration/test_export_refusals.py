"""`ledger export` reads through the queries (service/queries/) and shows what they refuse as a
clear error with a non-zero exit code, naming the field and the rule, and writes no file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.importer import import_lines
from service.ledger import Actor
from tests.factories import schedule_body
from tests.integration.test_import import example_lines

ADMIN = Actor("importer", "admin")


@pytest.fixture
def cli(settings, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    env = {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), env=env)


def test_export_of_a_draft_the_what_if_refuses_fails_naming_its_field_and_rule(ledger, cli, tmp_path):
    import_lines(ledger, example_lines(), ADMIN)
    draft = schedule_body()
    draft["levels"][0]["min_hours"] = "1.00"  # level 1 must start at 0 hours
    (tmp_path / "draft.json").write_text(json.dumps(draft), encoding="utf-8")
    done = cli("export", "what-if", "--year", "2026", "--draft", str(tmp_path / "draft.json"), "-o", "out.xlsx")
    assert done.exit_code == 2, done.output
    assert "starts_at_zero" in done.output and "min_hours" in done.output, done.output
    assert not (tmp_path / "out.xlsx").exists()


def test_export_of_a_valid_draft_writes_the_what_if(ledger, cli, tmp_path):
    import_lines(ledger, example_lines(), ADMIN)
    (tmp_path / "draft.json").write_text(json.dumps(schedule_body()), encoding="utf-8")
    done = cli("export", "what-if", "--year", "2026", "--draft", str(tmp_path / "draft.json"), "--format", "csv",
               "-o", "out.csv")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "out.csv").read_bytes().startswith("\ufeff".encode())
