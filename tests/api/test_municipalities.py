"""Paying municipalities on both stores: only the 98 codes of the register in ASCII digits are
recorded or read (issue 21, reproduction 2), every statement, export and page names the
municipality with its code ("Aarhus Kommune (751)"), and a code outside the register that a
store already holds is shown as unknown, never a 500."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import pytest
from openpyxl import load_workbook

from domain.values import Meta
from service.ledger import BudgetLedger, Timeline
from tests.api.test_ui import Browser
from tests.factories import facility_body, frame_body, move_in_body, schedule_body

AARHUS = "Aarhus Kommune (751)"
NOT_ASCII = ["７０７", "٧١٠", "७५१", "75１"]
"""Full-width, Arabic-Indic, Devanagari and mixed digits: `\\d` and str.isdigit take them all."""


@pytest.fixture
def sold(api):  # type: ignore[no-untyped-def]
    """GRENAA-BO with a schedule and a frame, and citizen A's place sold to Aarhus from 2026-03-10."""
    assert api.post("/v1/facilities", facility_body("GRENAA-BO")).status_code == 201
    assert api.put("/v1/tariff-schedules/2026", schedule_body()).status_code == 201
    assert api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body()).status_code == 201
    moved = api.post("/v1/citizens/A/move-in", move_in_body("GRENAA-BO", payer="751"), role="caseworker")
    assert moved.status_code == 201, moved.text
    return api


def position(ledger: BudgetLedger) -> int:
    return Timeline(ledger.engine).max_position()


def assert_refused(response, rule: str | None, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert field in [error["field"] for error in problem["errors"]], problem
    if rule is not None:
        assert problem["rule"] == rule, problem


# Commands ----------------------------------------------------------------------------------

@pytest.mark.parametrize("code", NOT_ASCII + ["999", "000", "708"])
def test_a_move_in_paid_by_anything_but_a_municipality_of_the_register_is_refused_and_stores_nothing(sold, ledger,
                                                                                                     code):
    before = position(ledger)
    refused = sold.post("/v1/citizens/N/move-in", move_in_body("GRENAA-BO", payer=code), role="caseworker")
    assert_refused(refused, "unknown_municipality" if code.isascii() else None, "paying_municipality")
    assert position(ledger) == before
    assert sold.get("/v1/citizens/N").status_code == 404


@pytest.mark.parametrize("code", NOT_ASCII + ["999"])
def test_a_change_of_payer_to_anything_but_a_municipality_of_the_register_is_refused(sold, ledger, code):
    before = position(ledger)
    refused = sold.post("/v1/citizens/A/paying-municipality", {"effective_date": "2026-04-01",
                                                                "paying_municipality": code}, role="caseworker")
    assert_refused(refused, "unknown_municipality" if code.isascii() else None, "paying_municipality")
    assert position(ledger) == before


def test_a_municipality_of_the_register_is_recorded_and_named_beside_its_code(sold):
    changed = sold.post("/v1/citizens/A/paying-municipality", {"effective_date": "2026-04-01",
                                                               "paying_municipality": "101"}, role="caseworker")
    assert changed.status_code == 201, changed.text
    (stay,) = sold.get("/v1/citizens/A").json()["stays"]
    assert [(p["paying_municipality"], p["paying_municipality_name"]) for p in stay["periods"]][:2] == \
        [("751", "Aarhus Kommune"), ("101", "Københavns Kommune")]


def test_the_openapi_schema_states_ascii_digits_and_the_registers_codes():
    from service.api.app import create_app
    from service.settings import Settings

    schema = create_app(Settings(database_url="sqlite://")).openapi()
    body = schema["components"]["schemas"]["MoveInCreate"]["properties"]["paying_municipality"]
    assert body["pattern"] == "^[0-9]{3}$" and len(body["enum"]) == 98 and "751" in body["enum"]
    (path,) = [p for p in schema["paths"]["/v1/statements/{municipality}/{year}/{month}"]["get"]["parameters"]
               if p["name"] == "municipality"]
    assert path["schema"]["pattern"] == "^[0-9]{3}$" and len(path["schema"]["enum"]) == 97
    assert "707" not in path["schema"]["enum"]


# Statements --------------------------------------------------------------------------------

def test_a_statement_names_its_municipality_beside_the_code(sold):
    body = sold.get("/v1/statements/751/2026/3", role="finance").json()
    assert (body["municipality"], body["municipality_name"]) == ("751", "Aarhus Kommune")
    assert [line["citizen_ref"] for line in body["lines"]] == ["A"]


@pytest.mark.parametrize("code", NOT_ASCII + ["999", "%EF%BC%97%EF%BC%90%EF%BC%97"])
def test_a_statement_or_its_export_for_anything_but_a_municipality_is_a_422_never_a_500(sold, code):
    for suffix in ("", "/export?format=xlsx", "/export?format=csv"):
        refused = sold.get(f"/v1/statements/{code}/2026/3{suffix}", role="finance")
        assert_refused(refused, "unknown_municipality" if code == "999" else None, "municipality")


def test_a_statements_workbook_and_csv_name_the_municipality_and_the_file_is_named_in_ascii(sold):
    book = sold.get("/v1/statements/751/2026/3/export?format=xlsx", role="finance")
    assert book.status_code == 200, book.text
    assert book.headers["content-disposition"] == 'attachment; filename="afregning-751-2026-03.xlsx"'
    workbook = load_workbook(io.BytesIO(book.content))
    header, *rows = list(workbook["Afregning"].iter_rows(values_only=True))
    assert [dict(zip(header, row))["Betalingskommune"] for row in rows] == [AARHUS, AARHUS]  # the period, I alt
    about = {row[0]: row[1] for row in workbook["Om udtrækket"].iter_rows(values_only=True) if row[0]}
    assert about["Betalingskommune"] == AARHUS
    table = sold.get("/v1/statements/751/2026/3/export?format=csv", role="finance")
    assert table.headers["content-disposition"] == 'attachment; filename="afregning-751-2026-03.csv"'
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [(row["Borger"], row["Betalingskommune"]) for row in rows] == [("A", AARHUS), ("I alt", AARHUS)]


# Pages -------------------------------------------------------------------------------------

def test_the_statement_citizen_and_facility_pages_show_the_name_with_the_code(sold):
    browser = Browser(sold.client, sold.tokens)
    statement = browser.get("/ui/afregning?municipality=751&year=2026&month=3")
    assert statement.status_code == 200 and f'<h2 id="statement-municipality">{AARHUS} · ' in statement.text
    assert "Kommune 751" not in statement.text
    listing = browser.get("/ui/afregning?year=2026&month=3")
    assert f'municipality=751&amp;year=2026&amp;month=3">{AARHUS}</a>' in listing.text
    citizen = browser.get("/ui/borger/A")
    assert citizen.status_code == 200 and citizen.text.count(AARHUS) >= 2  # the period and the move-in
    facility = browser.get("/ui/tilbud/GRENAA-BO?year=2026")
    assert facility.status_code == 200 and f"<td>{AARHUS}</td>" in facility.text
    for download in ("csv", "xlsx"):
        assert browser.get(f"/ui/download/statements/751/2026/3?format={download}").status_code == 200


@pytest.mark.parametrize("code", NOT_ASCII + ["999"])
def test_the_statement_page_and_its_download_refuse_a_code_outside_the_register_in_danish(sold, code):
    browser = Browser(sold.client, sold.tokens)
    for path in (f"/ui/afregning?municipality={code}&year=2026&month=3",
                 f"/ui/download/statements/{code}/2026/3?format=xlsx"):
        refused = browser.get(path)
        assert refused.status_code == 422 and "Betalingskommune: «" in refused.text, (path, refused.text[:300])


# A store written before the register ------------------------------------------------------

def record_unchecked_payer(ledger: BudgetLedger, ref: str, day: date, code: str) -> None:
    """A PayingMunicipalityChanged with a code outside the register, as a store written before
    the register was enforced holds it: the aggregate's event itself, without the command's check."""
    def decide():  # type: ignore[no-untyped-def]
        citizen = ledger.citizen(ref)
        meta = Meta(str(uuid.uuid4()), day, "before-the-register")
        citizen._paying_municipality_changed(meta=meta, stay_id=citizen.stay_on(day).stay_id,
                                             paying_municipality=code)
        return [citizen]

    ledger._command(decide, None)


@pytest.mark.parametrize("code", ["999", "７０７"])
def test_a_code_outside_the_register_already_stored_is_shown_as_unknown_and_no_read_fails(sold, ledger, code):
    record_unchecked_payer(ledger, "A", date(2026, 3, 20), code)
    unknown = f"ukendt kommune ({code})"
    (stay,) = sold.get("/v1/citizens/A").json()["stays"]
    assert [(p["paying_municipality"], p["paying_municipality_name"]) for p in stay["periods"]][:2] == \
        [("751", "Aarhus Kommune"), (code, None)]
    browser = Browser(sold.client, sold.tokens)
    for page in ("/ui/borger/A", "/ui/tilbud/GRENAA-BO?year=2026", "/ui/afregning?year=2026&month=3"):
        shown = browser.get(page)
        assert shown.status_code == 200 and unknown in shown.text, page
    aarhus = sold.get("/v1/statements/751/2026/3", role="finance").json()
    assert [line["days"] for line in aarhus["lines"]] == [10]  # 10-19 March, then the unknown code pays
    for path in ("/v1/central/2026", "/v1/central/2026/export?format=xlsx", "/v1/central/2026/export?format=csv",
                 "/v1/statements/751/2026/3/export?format=xlsx", "/v1/budgets/GRENAA-BO/2026"):
        assert sold.get(path, role="finance").status_code == 200, path
    what_if = sold.post("/v1/regulation/2026/what-if", schedule_body(), role="finance")
    assert what_if.status_code == 200, what_if.text
    assert {(r["paying_municipality"], r["paying_municipality_name"]) for r in what_if.json()["paying_municipalities"]} \
        == {("751", "Aarhus Kommune"), (code, None)}
    refused = sold.get(f"/v1/statements/{code}/2026/3/export", role="finance")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "municipality"
