"""The old model's CSV as move-in commands: headers, separators, decimal comma, dates, and
commands aligned with the file's own line numbers."""

from __future__ import annotations

import json

from service.old_model import parse_old_model, read_old_model


def commands(parsed) -> dict[int, dict]:  # type: ignore[no-untyped-def]
    return {number: json.loads(text) for number, text in enumerate(parsed.lines, start=1) if text}


def test_danish_headers_semicolons_decimal_comma_and_danish_dates():
    parsed = parse_old_model("Borger ; Tilbud;Indflytningsdato;TIMER PR DAG;Handlekommune\n"
                             "A;GRENAA-BO;10-03-2026;4,5;707\n\nB;AUNING-BO;2026-04-01;2;751\n", "borgere.csv")
    assert parsed.refusals == [] and len(parsed.lines) == 4
    assert commands(parsed) == {
        2: {"command": "move-in", "citizen_ref": "A", "facility": "GRENAA-BO", "effective_date": "2026-03-10",
            "paying_municipality": "707", "assessment": {"hours_per_day": "4.5"},
            "reason": "overført fra gammel model", "case_ref": "gammel model borgere.csv linje 2"},
        4: {"command": "move-in", "citizen_ref": "B", "facility": "AUNING-BO", "effective_date": "2026-04-01",
            "paying_municipality": "751", "assessment": {"hours_per_day": "2"},
            "reason": "overført fra gammel model", "case_ref": "gammel model borgere.csv linje 4"},
    }
    assert parsed.header_of("effective_date") == "Indflytningsdato"
    assert parsed.header_of("assessment.hours_per_day") == "TIMER PR DAG"
    assert parsed.header_of("special_tariff") == "TIMER PR DAG"  # no special tariff columns: the hours


def test_commas_with_quoted_decimal_commas_keep_the_files_line_numbers():
    parsed = parse_old_model('citizen_ref,facility,Move-in date,hours per day,paying_municipality\n'
                             'A,"GRENAA\nBO",01.03.2026,"1,25",707\n'
                             'B,X,01/03/2026,"3,5",707\n', "x.csv")
    assert sorted(commands(parsed)) == [2, 4]  # A's row spans lines 2-3
    assert commands(parsed)[4]["assessment"] == {"hours_per_day": "3.5"}
    assert commands(parsed)[4]["effective_date"] == "2026-03-01"


def test_cells_that_cannot_become_a_command_are_refused_by_line_and_header():
    parsed = parse_old_model("borger;tilbud;indflytningsdato;timer_pr_dag;betalingskommune\n"
                             "A;X;2026-03-01;;707\n"
                             "B;0101901234;2026-03-01;2;707\n"
                             "C;X;2026-13-01;2;707\n"
                             "D;X;2026-03-01;to;707\n", "x.csv")
    assert [(r.line, r.field, r.rule) for r in parsed.refusals] == [
        (2, "timer_pr_dag", "required"), (3, "tilbud", "cpr_number_refused"),
        (4, "indflytningsdato", "invalid_date"), (5, "timer_pr_dag", "invalid_hours")]
    assert commands(parsed) == {}
    assert "0101901234" not in str(parsed.refusals)


def test_a_file_from_excel_in_windows_1252_is_read(tmp_path):
    path = tmp_path / "borgere.csv"
    path.write_bytes("borger;tilbud;indflytningsdato;timer_pr_dag;betalingskommune\nA;ØRUM-BO;01-01-2026;1;707\n"
                     .encode("cp1252"))
    parsed = read_old_model(path)
    assert parsed.encoding == "windows-1252" and commands(parsed)[2]["facility"] == "ØRUM-BO"


def test_headers_are_checked():
    parsed = parse_old_model("borger;tilbud;tilbud;timer_pr_dag;betalingskommune;cpr\n", "x.csv")
    assert [(r.line, r.field, r.rule) for r in parsed.refusals] == [
        (1, "tilbud", "duplicate_column"), (1, "cpr", "unknown_column"),
        (1, "move_in_date", "missing_column")]
    assert parse_old_model("", "x.csv").refusals[0].rule == "missing_header"


def test_a_value_beyond_the_headers_columns_is_refused_not_dropped():
    parsed = parse_old_model("borger,tilbud,indflytningsdato,betalingskommune,timer_pr_dag\n"
                             "A,X,2026-01-01,751,4,5\n"  # 4,5 unquoted: would be 4 hours
                             "B,X,2026-01-01,751,2,,\n", "x.csv")  # empty cells after the last column are fine
    assert [(r.line, r.field, r.rule) for r in parsed.refusals] == [(2, "column 6", "too_many_cells")]
    assert sorted(commands(parsed)) == [3]
    unnamed = parse_old_model("borger;tilbud;;indflytningsdato;timer_pr_dag;betalingskommune\n"
                              "A;X;0101901234;2026-01-01;2;707\n", "x.csv")
    assert [(r.line, r.field, r.rule) for r in unnamed.refusals] == [(2, "column 3", "too_many_cells")]
    assert "0101901234" not in str(unnamed.refusals)
