"""The regulation of a closed year (issue 22, point 4), on both stores: the API's `totals`,
the page's totals row, its chart of result, carry-over and to-tariff per facility and the
applied status, and the same figures as xlsx and CSV through the API, the UI and the CLI.

On the worked example (tests/api/test_regulation.py) GRENAA-BO closed with costs 600 000.00
gives result 218 100.00 = 214 640.00 carried over + 3 460.00 to the tariff of 2028. AUNING-BO,
10 places with the same frame 3 650 000.00 and no stays, closed with costs 3 000 000.00, gives
result -3 000 000.00: -182 500.00 carried over (5 %) and -2 817 500.00 to the tariff. Summed:
revenue 818 100.00, cost basis 7 942 800.00, costs 3 600 000.00, result -2 781 900.00,
carried over 32 140.00, to the tariff -2 814 040.00.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from service.cli import app
from tests.api.test_worked_example import example  # noqa: F401
from tests.api.ui_session import log_in, session_header
from tests.factories import frame_body, schedule_body

TOTALS = {"revenue": "818100.00", "cost_basis": "7942800.00", "actual_costs": "3600000.00",
          "result": "-2781900.00", "carry_over": "32140.00", "to_tariff": "-2814040.00",
          "post_closing_adjustments": "0.00", "facilities": 2, "applied": 1}


@pytest.fixture
def closed(api, example):  # type: ignore[no-untyped-def]  # noqa: F811
    """2026 closed for both facilities; GRENAA-BO's 2028 frame carries its regulation line."""
    assert api.post("/v1/facilities", {"code": "AUNING-BO", "name": "Auning Bo", "kind": "botilbud",
                                       "area": "Auning", "places": 10}).status_code == 201
    assert api.put("/v1/facilities/AUNING-BO/frame-budgets/2026", frame_body()).status_code == 201
    for code, costs in (("GRENAA-BO", "600000.00"), ("AUNING-BO", "3000000.00")):
        assert api.post(f"/v1/facilities/{code}/accounts/2026", {"actual_costs": costs, "reason": "årsregnskab"},
                        role="finance").status_code == 201
    assert api.put("/v1/tariff-schedules/2028", schedule_body()).status_code == 201
    with_line = frame_body()
    with_line["lines"] = [*with_line["lines"], {"category": "regulation", "amount": "-3460.00"}]
    assert api.put("/v1/facilities/GRENAA-BO/frame-budgets/2028", with_line).status_code == 201, "frame 2028"
    return api


def test_the_regulation_read_sums_the_facilities_and_counts_the_applied(closed):
    body = closed.get("/v1/regulation/2026", role="auditor").json()
    assert body["totals"] == TOTALS
    rows = {row["facility"]: row for row in body["facilities"]}
    assert (rows["AUNING-BO"]["carry_over"], rows["AUNING-BO"]["to_tariff"]) == ("-182500.00", "-2817500.00")
    assert (rows["GRENAA-BO"]["applied"], rows["AUNING-BO"]["applied"]) == (True, False)
    assert (rows["GRENAA-BO"]["name"], rows["AUNING-BO"]["name"]) == ("Grenaa Bo", "Auning Bo")
    for field in ("revenue", "result", "carry_over", "to_tariff"):
        assert sum(Decimal(r[field]) for r in rows.values()) == Decimal(body["totals"][field])


def test_the_regulation_downloads_hold_the_reads_figures_and_a_totals_row(closed):
    text = closed.get("/v1/regulation/2026/export?format=csv", role="finance")
    assert text.status_code == 200 and "efterregulering-2026.csv" in text.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(text.content.decode("utf-8-sig")), delimiter=";"))
    assert [r["Tilbud"] for r in rows] == ["AUNING-BO", "GRENAA-BO", "I alt"]
    assert (rows[1]["Resultat (kr.)"], rows[1]["Overført (kr.)"], rows[1]["Til takst (kr.)"]) == \
        ("218100,00", "214640,00", "3460,00")
    assert (rows[2]["Resultat (kr.)"], rows[2]["Til takst (kr.)"], rows[2]["Indregnet"]) == \
        ("-2781900,00", "-2814040,00", "1 af 2")
    book = load_workbook(io.BytesIO(closed.get("/v1/regulation/2026/export?format=xlsx").content))
    header, *cells = list(book["Efterregulering"].iter_rows(values_only=True))
    totals = dict(zip(header, cells[-1]))
    assert Decimal(str(totals["Omkostningsgrundlag (kr.)"])) == Decimal("7942800.00")
    assert dict(zip(header, cells[1]))["Indregnet"] == "Ja" and dict(zip(header, cells[0]))["Indregnet"] == "Nej"
    assert closed.get("/v1/regulation/2026/export?format=csv", role="caseworker").status_code == 403
    assert closed.get("/v1/regulation/2026/export?format=pdf").status_code == 422


def test_the_regulation_page_shows_totals_a_chart_and_the_applied_status(closed):
    session = session_header(log_in(closed.client, closed.tokens["finance"]))
    page = closed.client.get("/ui/efterregulering?year=2026", headers=session).text
    footer = page[page.index("<tfoot>"):page.index("</tfoot>")]
    assert "I alt" in footer and "-2.781.900,00" in footer and "-2.814.040,00" in footer and "1 af 2" in footer
    chart = page[page.index('id="regulation-chart"'):]
    chart = chart[:chart.index("</svg>")]
    assert chart.count('<g class="bar') == 2 and "<script" not in page
    assert "Grenaa Bo (resultat 218.100,00 kr.): Overført 214.640,00 kr." in chart
    assert "Auning Bo (resultat -3.000.000,00 kr.): Til takst -2.817.500,00 kr." in chart
    assert "rammebudgettet for 2028 har ingen reguleringslinje (skal være 2.817.500,00)" in page
    assert 'href="/ui/download/regulation/2026?format=xlsx"' in page
    download = closed.client.get("/ui/download/regulation/2026?format=csv", headers=session)
    assert download.status_code == 200 and download.content == \
        closed.get("/v1/regulation/2026/export?format=csv").content
    caseworker = session_header(log_in(closed.client, closed.tokens["caseworker"]))
    assert closed.client.get("/ui/download/regulation/2026?format=csv", headers=caseworker).status_code == 403


def test_ledger_export_regulation_writes_the_same_file(closed, settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    done = CliRunner().invoke(app, ["export", "regulation", "--year", "2026", "--format", "csv"], env=env)
    assert done.exit_code == 0, done.output
    assert re.search(r"wrote efterregulering-2026\.csv", " ".join(done.output.split()))
    assert (tmp_path / "efterregulering-2026.csv").read_bytes() == \
        closed.get("/v1/regulation/2026/export?format=csv").content
