"""The what-if screen (issue 22, point 3), on both stores, on the worked example
(tests/api/test_regulation.py): the form is 2026's published schedule; with every level's rate
10 % higher the page shows the API's what-if (GRENAA-BO +53 210.00; Norddjurs +45 890.00, Aarhus
+7 320.00) and downloads the API's export; a special tariff's draft rate replaces the rate
granted; bad rates are refused beside their fields in Danish and nothing is recorded; `ledger
export what-if` writes the same file.
"""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from html import unescape
from urllib.parse import urlencode

from openpyxl import load_workbook
from typer.testing import CliRunner

from service.cli import app
from service.ui.formatting import kroner, signed_kroner
from tests.api.test_ui import Browser
from tests.api.test_worked_example import example  # noqa: F401
from tests.factories import RATES_2026, schedule_body

HIGHER = [kroner(Decimal(rate) * Decimal("1.10")) for rate in RATES_2026]
"""The rates 10 % higher, as a Danish user writes them: 660,00 … 6.160,00."""


def draft_query(rates: list[str], **special: str) -> str:
    return urlencode({"year": 2026, **{f"rate_{level}": rate for level, rate in enumerate(rates, start=1)},
                      **{f"rate_{code}": rate for code, rate in special.items()}})


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<span class="field-error" id="{field}-error">([^<]*)</span>', html)
    assert found, f"no error beside {field}"
    return unescape(found.group(1))


def href(html: str, label: str) -> str:
    return unescape(re.search(rf'<a class="button" href="([^"]*)">{label}</a>', html).group(1))


def test_the_form_is_the_years_schedule_and_the_result_the_apis_what_if_and_export(api, example, settings, tmp_path,
                                                                                  monkeypatch):  # noqa: F811
    browser = Browser(api.client, api.tokens)
    form = browser.get("/ui/hvad-hvis?year=2026")
    assert form.status_code == 200
    for level, rate in enumerate(RATES_2026, start=1):
        assert f'name="rate_{level}" id="rate_{level}" value="{kroner(rate)}"' in form.text
    assert 'name="rate_S1" id="rate_S1" value=""' in form.text and 'id="what-if-facilities"' not in form.text
    shown = browser.get(f"/ui/hvad-hvis?{draft_query(HIGHER)}")
    assert shown.status_code == 200, shown.text[-2000:]
    body = api.post("/v1/regulation/2026/what-if", schedule_body(Decimal("1.10")), role="finance").json()
    assert body["totals"]["difference"] == "53210.00"
    facilities = shown.text[shown.text.index('id="what-if-facilities"'):shown.text.index('id="what-if-municipalities"')]
    for row in body["facilities"]:
        assert all(kroner(row[k]) in facilities for k in ("actual", "what_if")) and "+53.210,00" in facilities
    payers = shown.text[shown.text.index('id="what-if-municipalities"'):]
    for row, label in zip(body["paying_municipalities"], ("Norddjurs Kommune (707)", "Aarhus Kommune (751)")):
        cells = payers[payers.index(label):]
        cells = cells[:cells.index("</tr>")]
        assert signed_kroner(row["difference"]) in cells and kroner(row["actual"]) in cells
    assert "+45.890,00" in payers and "+7.320,00" in payers
    csv_file = browser.get(href(shown.text, "CSV"))
    exported = api.post("/v1/regulation/2026/what-if/export?format=csv", schedule_body(Decimal("1.10")),
                        role="auditor")
    assert csv_file.status_code == exported.status_code == 200
    assert csv_file.content == exported.content
    assert "hvad-hvis-2026.csv" in csv_file.headers["content-disposition"]
    lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Opdeling;Kode;Navn;Faktisk opkrævet (kr.);Med udkastet (kr.);Difference (kr.)"
    assert "Tilbud;I alt;;818100,00;871310,00;53210,00" in lines and "Betalingskommune;751;Aarhus Kommune;195200,00;202520,00;7320,00" in lines
    book = load_workbook(io.BytesIO(browser.get(href(shown.text, r"Excel \(xlsx\)")).content))
    header, *rows = list(book["Betalingskommuner"].iter_rows(values_only=True))
    assert Decimal(str(dict(zip(header, rows[-1]))["Difference (kr.)"])) == Decimal("53210.00")
    about = {row[0]: row[1] for row in book["Om udtrækket"].iter_rows(values_only=True) if row[0]}
    assert Decimal(str(about["Udkast: niveau 8 (kr./døgn)"])) == Decimal("6160.00")
    assert about["Udkast: særtakst S1 (kr./døgn)"] == "den bevilgede takst"
    assert browser.get(f"/ui/hvad-hvis?{draft_query(HIGHER)}", role="auditor").status_code == 200
    assert browser.get(f"/ui/hvad-hvis?{draft_query(HIGHER)}", role="caseworker").status_code == 403
    assert browser.get(href(shown.text, "CSV"), role="caseworker").status_code == 403
    assert api.get("/health").json()["position"] == 9  # the what-if records nothing
    monkeypatch.chdir(tmp_path)
    (tmp_path / "draft.json").write_text(json.dumps(schedule_body(Decimal("1.10"))))
    env = {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    done = CliRunner().invoke(app, ["export", "what-if", "--year", "2026", "--draft", "draft.json", "--format", "csv",
                                    "--as-of-position", "9"], env=env)
    assert done.exit_code == 0, done.output
    assert (tmp_path / "hvad-hvis-2026.csv").read_bytes() == exported.content


def test_a_special_tariffs_draft_rate_replaces_the_rate_granted(api, example):  # noqa: F811
    granted = api.post("/v1/citizens/B/special-tariff", {"effective_date": "2026-12-01", "code": "S1",
                                                         "daily_rate": "7000.00", "reason": "Særlige behov"},
                       role="caseworker")
    assert granted.status_code == 201, granted.text
    browser = Browser(api.client, api.tokens)
    kept = browser.get(f"/ui/hvad-hvis?{draft_query(HIGHER)}").text
    assert "+5.460,00" in kept  # B's 91 days on level 1 before December: 10 % of 91 × 600.00
    draft = schedule_body(Decimal("1.10"))
    draft["special_tariffs"] = [{**draft["special_tariffs"][0], "daily_rate": "8000.00"}, draft["special_tariffs"][1]]
    body = api.post("/v1/regulation/2026/what-if", draft).json()
    aarhus = {r["paying_municipality"]: r for r in body["paying_municipalities"]}["751"]
    assert aarhus["difference"] == "36460.00"  # 5 460.00 + 31 December days × 1 000.00
    priced = browser.get(f"/ui/hvad-hvis?{draft_query(HIGHER, S1='8000')}").text
    assert "+36.460,00" in priced and 'name="rate_S1" id="rate_S1" value="8000"' in priced


def test_bad_rates_are_refused_beside_their_fields_in_danish_and_nothing_is_computed(api, example):  # noqa: F811
    browser = Browser(api.client, api.tokens)
    rates = list(HIGHER)
    rates[2], rates[4], rates[6], rates[7] = "abc", "0", "200000", ""
    refused = browser.get(f"/ui/hvad-hvis?{draft_query(rates, S1='12,345')}")
    assert refused.status_code == 422 and "ret de markerede takster" in refused.text
    assert "Niveau 3: «abc» er ikke et beløb" in field_error(refused.text, "rate_3")
    assert "0 skal være et beløb fra 0,01 til 100.000,00 kr." in field_error(refused.text, "rate_5")
    assert "200000 skal være et beløb fra 0,01" in field_error(refused.text, "rate_7")
    assert field_error(refused.text, "rate_8") == "Niveau 8: skriv en takst (kr. pr. døgn)."
    assert "med højst to decimaler" in field_error(refused.text, "rate_S1")
    assert 'name="rate_3" id="rate_3" value="abc" aria-label="Udkast, niveau 3" aria-invalid="true"' in refused.text
    assert 'id="what-if-facilities"' not in refused.text and "rate_1-error" not in refused.text
    download = browser.get(f"/ui/download/what-if/2026?format=csv&{draft_query(rates)}")
    assert download.status_code == 422 and "Niveau 3: «abc» er ikke et beløb" in download.text
    assert "attachment" not in download.headers.get("content-disposition", "")
    one = browser.get("/ui/hvad-hvis?year=2026&rate_1=660,00")  # the levels not sent keep their published rates
    assert one.status_code == 200 and 'name="rate_2" id="rate_2" value="1.250,00"' in one.text
    assert "+7.320,00" in one.text  # B's 122 days on level 1 at 60.00 more
    unknown = browser.get("/ui/hvad-hvis?year=2031")
    assert unknown.status_code == 404 and "Der er ingen offentliggjort takstmodel for 2031" in unknown.text
    assert browser.get(f"/ui/download/what-if/2026?format=pdf&{draft_query(HIGHER)}").status_code == 422
    assert api.get("/health").json()["position"] == 9
