"""Capacity warnings (issue 22, point 6), on both stores: a facility with 2 places and 3
citizens present in March (93 present days against 62 capacity days) is flagged for March
only, in the budget read, the central read (year and month), the UI's facility page and
overview, and the central export. February and April, at exactly 100 %, are not."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.api.ui_session import log_in, session_header
from tests.factories import facility_body, frame_body, move_in_body, schedule_body

MARCH = "2026-03: 93 present days exceed 62 capacity days (more citizens than places)"


@pytest.fixture
def crowded(api):  # type: ignore[no-untyped-def]
    """CAP-BO with 2 places: A and B all year, C from 1 to 31 March."""
    assert api.post("/v1/facilities", facility_body("CAP-BO", places=2)).status_code == 201
    assert api.put("/v1/tariff-schedules/2026", schedule_body()).status_code == 201
    assert api.put("/v1/facilities/CAP-BO/frame-budgets/2026", frame_body()).status_code == 201
    for ref, day in (("A", "2026-01-01"), ("B", "2026-01-01"), ("C", "2026-03-01")):
        assert api.post(f"/v1/citizens/{ref}/move-in", move_in_body("CAP-BO", day=day),
                        role="caseworker").status_code == 201
    assert api.post("/v1/citizens/C/move-out", {"effective_date": "2026-03-31", "kind": "moved"},
                    role="caseworker").status_code == 201
    return api


def test_the_budget_read_flags_march_only(crowded):
    body = crowded.get("/v1/budgets/CAP-BO/2026", role="auditor").json()
    assert [m["month"] for m in body["months"] if m["over_capacity"]] == [3]
    assert [(m["present_days"], m["capacity_days"]) for m in body["months"][1:4]] == [(56, 56), (93, 62), (60, 60)]
    assert [w for w in body["warnings"] if "capacity" in w] == [MARCH]


def test_the_central_read_flags_the_facility_in_march_and_the_year_but_not_in_april(crowded):
    year = crowded.get("/v1/central/2026").json()
    (row,) = year["facilities"]
    assert (row["over_capacity_months"], row["warnings"]) == ([3], [MARCH])
    assert f"CAP-BO: {MARCH}" in year["warnings"]
    march = crowded.get("/v1/central/2026?month=3").json()
    assert march["facilities"][0]["over_capacity_months"] == [3] and f"CAP-BO: {MARCH}" in march["warnings"]
    april = crowded.get("/v1/central/2026?month=4").json()
    assert april["facilities"][0]["over_capacity_months"] == [] and april["facilities"][0]["warnings"] == []
    assert not any("capacity" in w for w in april["warnings"])


def test_as_of_before_the_third_move_in_nothing_is_flagged(crowded):
    before = crowded.get("/v1/budgets/CAP-BO/2026?as_of_position=5").json()
    assert not any(m["over_capacity"] for m in before["months"]) and before["warnings"] == []


def test_the_facility_page_and_the_overview_flag_march_in_danish(crowded):
    session = session_header(log_in(crowded.client, crowded.tokens["finance"]))
    page = crowded.client.get("/ui/tilbud/CAP-BO?year=2026", headers=session).text
    assert "Over kapaciteten i marts 2026: 93 belægningsdage mod 62 kapacitetsdage" in page
    assert page.count('class="badge over-capacity"') == 1 and MARCH not in page
    overview = crowded.client.get("/ui/oversigt?year=2026", headers=session).text
    assert "(CAP-BO) er over kapaciteten i marts 2026" in overview and overview.count("badge over-capacity") == 1
    april = crowded.client.get("/ui/oversigt?year=2026&month=4", headers=session).text
    assert "over kapaciteten" not in april and "badge over-capacity" not in april


def test_the_central_export_names_the_months_over_capacity(crowded):
    text = crowded.get("/v1/central/2026/export?format=csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert (rows[0]["Tilbud"], rows[0]["Over kapacitet (måneder)"]) == ("CAP-BO", "marts")
    assert rows[-1]["Over kapacitet (måneder)"] == ""
    book = openpyxl.load_workbook(io.BytesIO(crowded.get("/v1/central/2026/export?format=xlsx").content))
    header = [c.value for c in book["Budget"][1]]
    assert book["Budget"].cell(2, header.index("Over kapacitet (måneder)") + 1).value == "marts"
    about = [c for row in book["Om udtrækket"].iter_rows(values_only=True) for c in row]
    assert f"CAP-BO: {MARCH}" in about
