"""The command line checks a paying municipality as the API does, on both stores: `ledger
import` (JSON Lines) and the old model's CSV take one of the register's 98 codes in ASCII
digits, else the line is named with its field and rule and nothing is stored; `ledger export
statement` writes no file for a code outside the register."""

from __future__ import annotations

import json

import pytest

from service.importer import ImportFailed, import_lines
from tests.integration.test_spreadsheet_cli import ADMIN, OLD_MODEL, cli, municipality, stored  # noqa: F401

REFUSED = [("７０７", "invalid_input"), ("٧١٠", "invalid_input"), ("999", "unknown_municipality")]


@pytest.mark.parametrize("code, rule", REFUSED)
def test_an_imported_move_in_paid_by_no_municipality_of_the_register_stores_nothing(ledger, code, rule):
    municipality(ledger)
    before = stored(ledger)
    line = {"command": "move-in", "citizen_ref": "N", "facility": "GRENAA-BO", "effective_date": "2026-03-01",
            "paying_municipality": code, "assessment": {"hours_per_day": "2"}}
    with pytest.raises(ImportFailed) as failed:
        import_lines(ledger, [json.dumps(line, ensure_ascii=False)], ADMIN)
    assert (failed.value.line, failed.value.field, failed.value.rule) == (1, "paying_municipality", rule)
    assert stored(ledger) == before


@pytest.mark.parametrize("code, rule", REFUSED)
def test_an_old_model_row_paid_by_no_municipality_of_the_register_is_named_and_nothing_is_stored(ledger, cli,
                                                                                                  tmp_path, code, rule):
    municipality(ledger)
    before = stored(ledger)
    (tmp_path / "borgere.csv").write_text(OLD_MODEL + f"OLD-9;GRENAA-BO;01-03-2026;2;{code}\r\n", encoding="utf-8")
    for args in (("--dry-run",), ()):
        done = cli("import", "borgere.csv", *args)
        assert done.exit_code == 1, done.output
        output = " ".join(done.output.split())
        assert "line 6, field betalingskommune:" in output and f"({rule})" in output, output
        assert stored(ledger) == before


def test_an_old_model_row_paid_by_a_municipality_of_the_register_is_imported(ledger, cli, tmp_path):
    municipality(ledger)
    (tmp_path / "borgere.csv").write_text(OLD_MODEL + "OLD-9;GRENAA-BO;01-03-2026;2;400\r\n", encoding="utf-8")
    done = cli("import", "borgere.csv")
    assert done.exit_code == 0, done.output
    (stay,) = ledger.citizen("OLD-9").stays
    assert stay.conditions()[0][1].paying_municipality == "400"


@pytest.mark.parametrize("code, rule", [("７０７", "invalid_municipality"), ("٧١٠", "invalid_municipality"),
                                        ("999", "unknown_municipality")])
def test_export_statement_refuses_a_code_outside_the_register_and_writes_no_file(ledger, cli, tmp_path, code, rule):
    municipality(ledger)
    refused = cli("export", "statement", "--municipality", code, "--year", "2026", "--month", "3")
    assert refused.exit_code == 2 and "--municipality" in refused.output and rule in refused.output, refused.output
    assert list(tmp_path.glob("afregning-*")) == []


def test_a_buyer_token_is_bound_to_a_municipality_of_the_register(ledger, cli):
    from sqlalchemy import select

    from service.auth import authenticate
    from service.db import api_tokens

    made = cli("token", "create", "--role", "buyer", "--municipality", "751", "--name", "aarhus")
    assert made.exit_code == 0, made.output
    actor = authenticate(ledger.engine, made.output.strip().splitlines()[-1])
    assert (actor.role, actor.municipality) == ("buyer", "751")
    for args in (("--role", "buyer"), ("--role", "buyer", "--municipality", "999"),
                 ("--role", "buyer", "--municipality", "707"), ("--role", "finance", "--municipality", "751")):
        refused = cli("token", "create", *args, "--name", "x")
        assert refused.exit_code == 2 and "--municipality" in refused.output, (args, refused.output)
    with ledger.engine.connect() as connection:
        assert connection.execute(select(api_tokens.c.name, api_tokens.c.municipality)).all() == [("aarhus", "751")]
