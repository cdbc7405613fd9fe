"""Spreadsheet downloads of the worked example (examples.md) on both stores: the workbook's
typed cells and the Danish CSV carry exactly the API's figures, as of the position named."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from domain.errors import RuleViolation
from service.export import BUDGET, STATEMENT, XLSX, statement_csv, statement_workbook, typed
from tests.api.test_worked_example import example  # noqa: F401

MONEY = ("frame", "activity", "total", "sold_income")
WHOLE = ("places", "present_days", "funded_days", "capacity_days", "sold_days")
FIGURES = MONEY + WHOLE + ("occupancy_pct", "sold_share_pct", "avg_support_hours")
HEADER = {c.field: c.header for c in BUDGET}


def workbook(response):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(response.content))


def rows_by_header(sheet) -> list[dict]:  # type: ignore[no-untyped-def]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row)) for row in values[1:]]


def number(value) -> Decimal:  # type: ignore[no-untyped-def]
    assert isinstance(value, (int, float)) and not isinstance(value, bool), value
    return Decimal(str(value))


def danish_rows(content: bytes) -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def from_danish(text: str) -> Decimal:
    assert "." not in text, text  # decimal comma, no thousands separator
    return Decimal(text.replace(",", "."))


def test_central_workbook_holds_the_apis_figures_as_numbers(api, example):  # noqa: F811
    body = api.get("/v1/central/2026?as_of_position=9", role="auditor").json()
    response = api.get("/v1/central/2026/export?format=xlsx&as_of_position=9", role="auditor")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == 'attachment; filename="central-2026.xlsx"'
    book = workbook(response)
    assert book.sheetnames == ["Budget", "Niveauer", "Om udtrækket"]
    budget = book["Budget"]
    assert budget.freeze_panes == "B2" and budget["A1"].value == "Tilbud"
    assert budget["F1"].value == "Rammebudget (kr.)" and budget["F2"].number_format == "#,##0.00"
    facility, totals = rows_by_header(budget)
    assert facility[HEADER["facility"]] == "GRENAA-BO" and totals[HEADER["facility"]] == "I alt"
    for name in FIGURES:
        assert number(facility[HEADER[name]]) == Decimal(body["facilities"][0][name]), name
        assert number(totals[HEADER[name]]) == Decimal(body["totals"][name]), name
    assert isinstance(facility[HEADER["present_days"]], int) and facility[HEADER["baseline"]] is None
    assert number(facility[HEADER["total"]]) == Decimal("4292800.00")
    _, levels = rows_by_header(book["Niveauer"])
    assert (levels["Niveau 1"], levels["Niveau 5"], levels["Borgere i alt"]) == (1, 0, 1)
    about = {row[0]: row[1] for row in book["Om udtrækket"].iter_rows(values_only=True) if row and row[0]}
    assert (about["År"], about["Måned"], about["Opgjort pr. position"], about["Advarsler"]) == \
        (2026, "hele året", 9, "ingen")
    assert (facility[HEADER["kind"]], HEADER["present_days"]) == ("Botilbud", "Belægningsdage")


def test_central_workbook_for_a_month_with_a_baseline(api, example):  # noqa: F811
    api.put("/v1/facilities/GRENAA-BO/baselines/2026", {"baseline_budget": "4000000.00", "phase_in_pct": "25"},
            role="finance")
    year = rows_by_header(workbook(api.get("/v1/central/2026/export"))["Budget"])[0]
    assert [number(year[HEADER[n]]) for n in ("baseline", "difference", "phased")] == \
        [Decimal("4000000.00"), Decimal("292800.00"), Decimal("4073200.00")]
    response = api.get("/v1/central/2026/export", params={"month": 4, "as_of_position": 9})
    assert response.headers["content-disposition"].endswith('filename="central-2026-04.xlsx"')
    book = workbook(response)
    april = rows_by_header(book["Budget"])[0]
    assert number(april[HEADER["total"]]) == Decimal("406166.67") and number(april[HEADER["avg_support_hours"]]) == \
        Decimal("8.25")
    assert rows_by_header(book["Niveauer"])[0]["Niveau 5"] == 1
    about = {row[0]: row[1] for row in book["Om udtrækket"].iter_rows(values_only=True) if row and row[0]}
    assert (about["Måned"], about["Periode"]) == (4, "april 2026")


def test_central_csv_parses_back_to_the_apis_figures(api, example):  # noqa: F811
    body = api.get("/v1/central/2026?as_of_position=9").json()
    response = api.get("/v1/central/2026/export", params={"format": "csv", "as_of_position": 9})
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="central-2026.csv"'
    facility, totals = danish_rows(response.content)
    for name in FIGURES:
        assert from_danish(facility[HEADER[name]]) == Decimal(body["facilities"][0][name]), name
        assert from_danish(totals[HEADER[name]]) == Decimal(body["totals"][name]), name
    assert facility[HEADER["frame"]] == "3650000,00"
    assert facility[HEADER["occupancy_pct"]] == body["facilities"][0]["occupancy_pct"].replace(".", ",")
    assert (facility["Niveau 1"], totals[HEADER["facility"]], facility[HEADER["baseline"]]) == ("1", "I alt", "")
    assert facility["Type"] == "Botilbud"


def test_statement_workbook_and_csv_hold_each_period(api, example):  # noqa: F811
    sent = api.get("/v1/statements/751/2026/9", role="finance").json()
    api.post("/v1/citizens/B/reassessments", {"effective_date": "2026-09-16", "assessment": {"hours_per_day": "3"},
                                              "reason": "sen revurdering"}, role="caseworker")
    response = api.get("/v1/statements/751/2026/9/export", params={"as_of_position": sent["as_of_position"]},
                       role="auditor")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="afregning-751-2026-09.xlsx"'
    book = workbook(response)
    assert book.sheetnames == ["Afregning", "Ændringer siden", "Om udtrækket"]
    period, total = rows_by_header(book["Afregning"])
    assert [c.header for c in STATEMENT] == list(period)
    assert (period["Borger"], period["Tilbud"], period["Niveau"], period["Dage"]) == ("B", "GRENAA-BO", 1, 30)
    assert isinstance(period["Fra"], datetime) and period["Fra"].date() == date(2026, 9, 1)
    assert [number(period[h]) for h in ("Basistakst (kr./dag)", "Servicetakst (kr./dag)", "Beløb (kr.)")] == \
        [Decimal("1000.00"), Decimal("600.00"), Decimal("48000.00")]
    assert (total["Borger"], total["Dage"], number(total["Beløb (kr.)"])) == ("I alt", 30, Decimal("48000.00"))
    changed, change_total = rows_by_header(book["Ændringer siden"])
    assert (changed["Borger"], number(changed["Beløb nu (kr.)"]), number(changed["Difference (kr.)"])) == \
        ("B", Decimal("57750.00"), Decimal("9750.00"))
    assert number(change_total["Difference (kr.)"]) == Decimal("9750.00")
    latest = api.get("/v1/statements/751/2026/9/export?format=csv", role="finance")
    first, second, totals = danish_rows(latest.content)
    assert [(r["Fra"], r["Niveau"], r["Dage"], r["Beløb (kr.)"]) for r in (first, second)] == \
        [("2026-09-01", "1", "15", "24000,00"), ("2026-09-16", "2", "15", "33750,00")]
    assert (totals["Borger"], totals["Beløb (kr.)"]) == ("I alt", "57750,00")


def test_downloads_keep_the_roles_and_refuse_a_bad_format(api, example):  # noqa: F811
    for role in ("admin", "finance", "caseworker", "auditor"):
        assert api.get("/v1/central/2026/export", role=role).status_code == 200, role
        expected = 403 if role == "caseworker" else 200
        assert api.get("/v1/statements/751/2026/9/export", role=role).status_code == expected, role
    assert api.as_(None, "GET", "/v1/central/2026/export").status_code == 401
    assert api.as_(None, "GET", "/v1/statements/751/2026/9/export").status_code == 401
    for path in ("/v1/central/2026/export", "/v1/statements/751/2026/9/export"):
        bad = api.get(path, params={"format": "pdf"})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errors"][0]["field"] == "format"
    norddjurs = api.get("/v1/statements/707/2026/9/export")
    assert norddjurs.status_code == 422 and norddjurs.json()["errors"][0]["field"] == "municipality"
    assert api.get("/v1/central/2026/export?as_of_position=999999").status_code == 409


def test_a_statement_download_is_logged_as_a_read_of_its_citizens(api, example):  # noqa: F811
    api.get("/v1/statements/751/2026/9/export?format=csv", role="finance")
    reads = api.get("/v1/audit/citizen-reads?citizen=B", role="auditor").json()["reads"]
    assert [(r["reader"], r["resource"]) for r in reads] == [("finance-tester", "/v1/statements/751/2026/9/export")]


def test_a_stay_shown_only_as_changed_since_is_logged_as_read(api, example):  # noqa: F811
    # as of position 7 B had not moved in: B is only in `now.changed_lines`
    body = api.get("/v1/statements/751/2026/9?as_of_position=7", role="finance").json()
    assert body["lines"] == [] and [c["citizen_ref"] for c in body["now"]["changed_lines"]] == ["B"]
    assert api.get("/v1/statements/751/2026/9/export?as_of_position=7", role="finance").status_code == 200
    reads = api.get("/v1/audit/citizen-reads?citizen=B", role="auditor").json()["reads"]
    assert sorted(r["resource"] for r in reads) == ["/v1/statements/751/2026/9", "/v1/statements/751/2026/9/export"]


def test_text_that_looks_like_a_formula_stays_text(api):
    evil = '=HYPERLINK("http://evil.example","klik")'
    assert api.post("/v1/facilities", {"code": "EVIL", "name": evil, "kind": "botilbud", "area": "@SUM(1)",
                                       "places": 1}, role="finance").status_code == 201
    response = api.get("/v1/central/2026/export?format=xlsx")
    with zipfile.ZipFile(io.BytesIO(response.content)) as files:
        sheets = [files.read(name) for name in files.namelist() if name.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)
    row = rows_by_header(workbook(response)["Budget"])[0]
    assert (row[HEADER["name"]], row[HEADER["area"]]) == (evil, "@SUM(1)")
    facility = danish_rows(api.get("/v1/central/2026/export?format=csv").content)[0]
    assert (facility[HEADER["name"]], facility[HEADER["area"]]) == ("'" + evil, "'@SUM(1)")


def test_control_characters_in_text_are_written_visibly_not_a_500(api):
    """XML 1.0 (so xlsx) cannot hold most control characters; found by fuzzing the download."""
    name = "Bo\x01sted"
    assert api.post("/v1/facilities", {"code": "CTRL", "name": name, "kind": "botilbud", "area": "Grenaa",
                                       "places": 1}, role="finance").status_code == 201
    response = api.get("/v1/central/2026/export?format=xlsx")
    assert response.status_code == 200
    row = rows_by_header(workbook(response)["Budget"])[0]
    assert row[HEADER["name"]] == "Bo\\x01sted"


def test_a_number_a_workbook_cannot_hold_exactly_is_refused_not_rounded():
    largest = "9999999999999.99"  # below 10^13 kr. with øre: 15 significant digits
    body = {"municipality": "751", "year": 2026, "month": 9, "as_of_position": 1, "lines": [], "warnings": [],
            "total": largest, "now": None}
    about = load_workbook(io.BytesIO(statement_workbook(body)))["Om udtrækket"]
    (total,) = [row[1] for row in about.iter_rows(values_only=True) if row[0] == "Total (kr.)"]
    assert number(total) == Decimal(largest)
    for too_large in ("10000000000000.00", "-12345678901234.56"):
        with pytest.raises(RuleViolation) as refused:
            typed(too_large, "money", "total")
        assert (refused.value.rule, refused.value.field) == ("amount_too_large_for_a_spreadsheet", "total")
        with pytest.raises(RuleViolation):
            statement_csv({**body, "total": too_large})
