"""The web UI's log-in and access rules, on both stores: a page admits exactly the roles of the
API endpoint whose figures it shows; no cookie or an ended session goes to the log-in page;
the cookie is HttpOnly and SameSite=Strict; refusals are Danish pages, never a 500. Sessions
and CSRF in depth: tests/api/test_ui_sessions.py."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from fastapi.testclient import TestClient

from domain.facility import COST_CATEGORIES
from service.api.app import create_app
from service.auth import create_token, revoke_tokens
from service.importer import import_lines
from service.ledger import Actor, BudgetLedger
from service.read_models import BudgetReads
from service.ui.formatting import kroner
from tests.api.ui_session import ORIGIN, form_token, log_in, post_log_in, session_header, set_cookies
from tests.conftest import Api
from tests.factories import facility_body, frame_body, move_in_body, schedule_body

ROLES = ["admin", "finance", "caseworker", "auditor", "buyer"]
PAGES = {
    "/ui/oversigt?year=2026": "/v1/central/2026",
    "/ui/tilbud/GRENAA-BO?year=2026": "/v1/budgets/GRENAA-BO/2026",
    "/ui/forklar?facility=GRENAA-BO&year=2026&month=3": "/v1/budgets/GRENAA-BO/2026/3/explain",
    "/ui/borger/A": "/v1/citizens/A",
    "/ui/afregning?municipality=751&year=2026&month=3": "/v1/statements/751/2026/3",
    "/ui/efterregulering?year=2026": "/v1/regulation/2026",
    "/ui/download/central/2026?format=xlsx": "/v1/central/2026/export?format=xlsx",
    "/ui/download/statements/751/2026/3?format=csv": "/v1/statements/751/2026/3/export?format=csv",
    "/ui/download/regulation/2026?format=csv": "/v1/regulation/2026/export?format=csv",
    "/ui/koeber?municipality=751": "/v1/buyers/751/citizens",
    "/ui/koeber/borger/A?municipality=751": "/v1/buyers/751/citizens/A",
    "/ui/koeber/afregning?municipality=751&year=2026&month=3": "/v1/statements/751/2026/3",
    "/ui/koeber/dokument/751/2026/3": "/v1/statements/751/2026/3/document",
}
"""Each UI page and the API endpoint of the same figures."""


class Browser:
    """A client that speaks as a browser holding a UI session (one log-in per token)."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens
        self.sessions: dict[str, str] = {}

    def session(self, token: str) -> str:
        if token not in self.sessions:
            self.sessions[token] = log_in(self.client, token)
        return self.sessions[token]

    def get(self, path: str, role: str | None = "finance", session: str | None = None):  # type: ignore[no-untyped-def]
        session = session or (self.session(self.tokens[role]) if role else None)
        headers = session_header(session) if session else {}
        return self.client.get(path, headers=headers, follow_redirects=False)


@pytest.fixture
def world(settings, ledger, tokens):  # type: ignore[no-untyped-def]
    # refused tokens are tried on purpose here; the throttle is tested with the API
    roomy = settings.model_copy(update={"auth_failure_limit": 10_000})
    with TestClient(create_app(roomy, ledger), raise_server_exceptions=False) as client:
        api = Api(client, tokens)
        assert api.post("/v1/facilities", facility_body("GRENAA-BO")).status_code == 201
        assert api.put("/v1/tariff-schedules/2026", schedule_body()).status_code == 201
        assert api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body()).status_code == 201
        assert api.post("/v1/citizens/A/move-in", move_in_body("GRENAA-BO", payer="751", case_ref="27.12-G01-7"),
                        role="caseworker").status_code == 201
        wrong = api.post("/v1/citizens/A/reassessments", {"effective_date": "2026-03-20",
                                                           "assessment": {"hours_per_day": "9.5"}}, role="caseworker")
        assert api.post("/v1/retractions", {"event_id": wrong.json()["event_id"], "reason": "Forkert døgnskema"},
                        role="caseworker").status_code == 201
        yield api, Browser(client, tokens)


def test_every_page_admits_exactly_the_roles_of_its_api_endpoint(world):
    """A `buyer` sees only the Køberkommune pages (docs/adr/0026), though the API lets it read
    its own statements: Norddjurs' own statement pages are refused to it."""
    api, browser = world
    for page, endpoint in PAGES.items():
        for role in ROLES:
            through_api = api.get(endpoint, role=role)
            shown = browser.get(page, role=role)
            assert through_api.status_code in (200, 403), (endpoint, role, through_api.text)
            expected = 403 if role == "buyer" and not page.startswith("/ui/koeber") else through_api.status_code
            assert shown.status_code == expected, (page, role, shown.text[:500])
            if shown.status_code == 403:
                assert "Ingen adgang" in shown.text and "økonomi, revisor" in shown.text


def test_without_a_cookie_every_page_sends_the_browser_to_log_in_and_back(world):
    _, browser = world
    for page in PAGES:
        response = browser.get(page, role=None)
        assert response.status_code == 303, page
        assert response.headers["location"].startswith("/ui/login?next=%2Fui%2F")
    assert browser.get("/ui", role=None).headers["location"] == "/ui/login?next=%2Fui"


def test_an_unknown_session_or_one_of_a_revoked_token_goes_to_log_in_with_a_danish_message(world, ledger):
    _, browser = world
    leaving = browser.session(create_token(ledger.engine, "finance", "leaving"))
    assert browser.get("/ui/oversigt", session=leaving).status_code == 200
    revoke_tokens(ledger.engine, "leaving")
    for session in (leaving, "bogus", browser.session(browser.tokens["finance"])[:-2] + "xx",
                    browser.tokens["finance"]):  # an API token is no session
        response = browser.get("/ui/oversigt", session=session)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/login?next=%2Fui%2Foversigt&besked=ugyldig"
        assert 'ledger_session=""' in response.headers["set-cookie"]  # the refused cookie is cleared
    page = browser.get(response.headers["location"], role=None)
    assert page.status_code == 200 and "ikke gyldig længere" in page.text


def test_logging_in_sets_an_httponly_strict_session_cookie_and_a_wrong_token_is_refused_in_danish(world):
    _, browser = world
    client = browser.client
    good = post_log_in(client, browser.tokens["auditor"], "/ui/borger/A")
    assert good.status_code == 303 and good.headers["location"] == "/ui/borger/A"
    cookie = set_cookies(good)["ledger_session"]["ledger_session"]
    assert browser.tokens["auditor"] not in good.headers.get("set-cookie", "")
    assert cookie["httponly"] and cookie["samesite"].lower() == "strict" and cookie["path"] == "/ui"
    assert not cookie["secure"]
    wrong = post_log_in(client, "lt_" + "0" * 32 + "_" + "x" * 30)
    assert wrong.status_code == 401 and "Tokenet blev ikke genkendt" in wrong.text
    assert "ledger_session" not in set_cookies(wrong)
    for elsewhere in ("https://example.org/ui", "//example.org/ui", "/v1/central/2026"):
        sent = post_log_in(client, browser.tokens["finance"], elsewhere)
        assert sent.headers["location"] == "/ui"
    session = cookie.value
    page = browser.get("/ui/oversigt", session=session)
    out = client.post("/ui/logout", data={"csrf_token": form_token(page.text)},
                      headers={**session_header(session), "Origin": ORIGIN}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/ui/login?besked=logget-ud"
    cleared = set_cookies(out)["ledger_session"]["ledger_session"]
    assert cleared.value == "" and cleared["max-age"] == "0"
    linked = client.get("/ui/logout", headers=session_header(session), follow_redirects=False)
    assert linked.status_code in (404, 405) and "set-cookie" not in linked.headers  # no link logs out


def test_a_caseworker_sees_neither_statements_nor_regulation_in_the_menu_or_behind_it(world):
    _, browser = world
    overview = browser.get("/ui/oversigt", role="caseworker")
    assert overview.status_code == 200
    assert "/ui/afregning" not in overview.text and "/ui/efterregulering" not in overview.text
    refused = browser.get("/ui/afregning?municipality=751&year=2026&month=3", role="caseworker")
    assert refused.status_code == 403 and "Din rolle (sagsbehandler) giver ikke adgang" in refused.text
    assert 'href="/ui/borger/A"' not in refused.text and "A</a>" not in refused.text
    assert 'href="/ui/borger/A"' in browser.get("/ui/afregning?municipality=751&year=2026&month=3").text
    assert "/ui/afregning" in browser.get("/ui/oversigt", role="auditor").text


def test_the_overview_shows_the_central_models_figures_as_of_the_chosen_date(world):
    api, browser = world
    central = api.get("/v1/central/2026", role="finance").json()
    page = browser.get("/ui/oversigt?year=2026").text
    assert kroner(central["totals"]["total"]) in page and kroner(central["facilities"][0]["frame"]) in page
    assert "Grenaa Bo" in page and page.count('<g class="bar') == 12
    earlier = browser.get("/ui/oversigt?year=2026&as_of=2000-01-01")  # before any event, whatever the clock says
    assert earlier.status_code == 200 and "Grenaa Bo" not in earlier.text and "(position 0)" in earlier.text


def test_the_overview_reads_the_facility_years_once_for_the_table_and_the_chart(world, monkeypatch):
    _, browser = world
    reads: list[int] = []
    all_facility_years = BudgetReads.all_facility_years

    def counted(self, year, position):  # type: ignore[no-untyped-def]
        reads.append(position)
        return all_facility_years(self, year, position)

    monkeypatch.setattr(BudgetReads, "all_facility_years", counted)
    page = browser.get("/ui/oversigt?year=2026")
    assert page.status_code == 200 and page.text.count('<g class="bar') == 12
    assert len(reads) == 1


def test_a_facility_name_with_markup_is_shown_as_text(world):
    api, browser = world
    name = "<script>alert(1)</script>"
    assert api.post("/v1/facilities", {**facility_body("XSS-BO"), "name": name, "area": "<b>Øst</b>"}
                    ).status_code == 201
    for page in ("/ui/oversigt?year=2026", "/ui/tilbud/XSS-BO?year=2026", "/ui/forklar"):
        shown = browser.get(page)
        assert shown.status_code == 200, page
        assert name not in shown.text and "<b>Øst</b>" not in shown.text, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text, page


def test_a_future_or_malformed_date_is_a_danish_message_not_a_500(world):
    _, browser = world
    tomorrow = (BudgetLedger.today() + timedelta(days=1)).isoformat()
    for page in ("/ui/oversigt", "/ui/tilbud/GRENAA-BO", "/ui/borger/A", "/ui/efterregulering",
                 "/ui/afregning?municipality=751&year=2026&month=3"):
        future = browser.get(f"{page}{'&' if '?' in page else '?'}as_of={tomorrow}")
        assert future.status_code == 422 and "ligger i fremtiden" in future.text, page
        assert 'name="as_of"' in future.text  # the form is there to ask again
    assert "er ikke en dato" in browser.get("/ui/oversigt?as_of=1.4.2026").text
    assert browser.get("/ui/oversigt?year=20x6").status_code == 422
    unknown = browser.get("/ui/tilbud/NOWHERE")
    assert unknown.status_code == 404 and "Findes ikke i ledgeren" in unknown.text
    assert browser.get("/ui/borger/NOBODY").status_code == 404
    norddjurs = browser.get("/ui/afregning?municipality=707&year=2026&month=3")
    assert norddjurs.status_code == 422 and "707 er Norddjurs selv" in norddjurs.text
    backwards = browser.get(f"/ui/forklar?facility=GRENAA-BO&year=2026&fra={BudgetLedger.today()}&til=2026-01-01")
    assert backwards.status_code == 422 and "Fra-datoen ligger efter til-datoen" in backwards.text


def test_references_in_any_case_are_reached_and_unknown_pages_are_a_danish_404(world, ledger):
    api, browser = world
    assert api.post("/v1/facilities", facility_body("NORD/BO")).status_code == 422  # no route could reach it
    assert api.post("/v1/facilities", facility_body("nord.bo")).status_code == 201
    import_lines(ledger, [json.dumps({"command": "move-in", "citizen_ref": "bor_7", "facility": "Nord.Bo",
                                      "effective_date": "2026-02-01", "paying_municipality": "707",
                                      "assessment": {"hours_per_day": "1"}})], Actor("importer", "admin"))
    overview = browser.get("/ui/oversigt?year=2026").text
    assert 'href="/ui/tilbud/NORD.BO?year=2026"' in overview
    assert browser.get("/ui/tilbud/nord.bo?year=2026").status_code == 200
    facility = browser.get("/ui/tilbud/NORD.BO?year=2026")
    assert facility.status_code == 200 and 'href="/ui/borger/BOR_7"' in facility.text
    assert 'action="/ui/tilbud/NORD.BO"' in facility.text
    found = browser.get("/ui/borger?ref=bor_7")
    assert found.status_code == 303
    citizen = browser.get(found.headers["location"])
    assert citizen.status_code == 200 and "Borger bor_7" in citizen.text  # the heading shows the ref as typed
    assert 'href="/ui/tilbud/NORD.BO?year=' in citizen.text
    for unknown in ("/ui/nowhere", "/ui/tilbud", "/ui/download/central"):
        missing = browser.get(unknown)
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html"), unknown
        assert "Siden findes ikke" in missing.text, unknown


def test_explain_and_the_timeline_show_who_changed_what_and_why(world):
    api, browser = world
    explained = api.get("/v1/budgets/GRENAA-BO/2026/3/explain", role="finance").json()
    retraction = explained["changes"][-1]
    assert retraction["type"] == "EntryRetracted"
    page = browser.get("/ui/forklar?facility=GRENAA-BO&year=2026&month=3").text
    assert "Tilbagekaldelse" in page and "Forkert døgnskema" in page and "caseworker-tester" in page
    assert kroner(abs(Decimal(retraction["delta"]))) in page and kroner(explained["after"]) in page
    timeline = browser.get("/ui/borger/A", role="caseworker").text
    assert "Tilbagekaldt" in timeline and "af caseworker-tester: Forkert døgnskema" in timeline
    assert "27.12-G01-7" in timeline and "Betalingskommune" in timeline


def test_citizen_rows_shown_by_a_page_are_logged_as_reads(world):
    api, browser = world
    assert browser.get("/ui/tilbud/GRENAA-BO?year=2026", role="caseworker").status_code == 200
    reads = api.get("/v1/audit/citizen-reads?citizen=A", role="auditor").json()
    rows = reads.get("reads", reads.get("rows", []))
    assert any(r["resource"] == "/ui/tilbud/GRENAA-BO" and r["reader"] == "caseworker-tester" for r in rows), reads


def test_a_citizen_page_logs_the_read_under_its_own_path_and_the_api_under_the_apis(world):
    api, browser = world
    assert browser.get("/ui/borger/A", role="caseworker").status_code == 200
    assert api.get("/v1/citizens/A", role="auditor").status_code == 200
    reads = api.get("/v1/audit/citizen-reads?citizen=A", role="auditor").json()["reads"]
    assert [(r["resource"], r["reader"]) for r in reads] == [("/ui/borger/A", "caseworker-tester"),
                                                             ("/v1/citizens/A", "auditor-tester")]


def test_a_statement_page_logs_the_citizens_it_shows_as_changed_since(world):
    api, browser = world
    # as of 2000-01-01 nothing was recorded: A's stay is only under "Ændret siden"
    page = browser.get("/ui/afregning?municipality=751&year=2026&month=3&as_of=2000-01-01")
    assert page.status_code == 200 and 'id="changed-lines"' in page.text and ">A</a>" in page.text
    download = browser.get("/ui/download/statements/751/2026/3?format=xlsx&as_of=2000-01-01")
    assert download.status_code == 200
    assert browser.get("/ui/forklar?facility=GRENAA-BO&year=2026&month=3").status_code == 200
    reads = api.get("/v1/audit/citizen-reads?citizen=A", role="auditor").json()["reads"]
    assert sorted(r["resource"] for r in reads) == ["/ui/afregning", "/ui/download/statements/751/2026/3",
                                                    "/ui/forklar"]


def test_downloads_are_the_pages_figures_as_a_spreadsheet(world):
    api, browser = world
    workbook = browser.get("/ui/download/central/2026?format=xlsx")
    assert workbook.status_code == 200 and "attachment" in workbook.headers["content-disposition"]
    cells = [c for sheet in openpyxl.load_workbook(io.BytesIO(workbook.content)).worksheets
             for row in sheet.iter_rows(values_only=True) for c in row]
    total = Decimal(api.get("/v1/central/2026", role="finance").json()["totals"]["total"])
    assert any(isinstance(c, (int, float)) and Decimal(str(c)) == total for c in cells)
    statement = browser.get("/ui/download/statements/751/2026/3?format=csv")
    assert statement.status_code == 200 and b"A;GRENAA-BO" in statement.content
    assert browser.get("/ui/download/central/2026?format=pdf").status_code == 422


def test_ui_responses_are_never_stored_and_run_no_script(world):
    api, browser = world
    responses = [browser.get("/ui/oversigt?year=2026"), browser.get("/ui/download/central/2026?format=csv"),
                 browser.get("/ui/login", role=None), browser.get("/ui/oversigt", role=None),
                 browser.get("/ui/nowhere"), browser.get("/ui/static/ui.css", role=None)]
    for response in responses:
        assert response.headers["cache-control"] == "no-store", response.url
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'none'" in policy, response.url
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, response.url
    exported = api.get("/v1/statements/751/2026/3/export", role="finance")
    assert exported.status_code == 200 and exported.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in api.get("/v1/central/2026").headers


def test_a_sum_too_large_for_a_spreadsheet_is_refused_as_a_danish_page(world):
    api, browser = world
    # each line is at most 10 000 000 000.00 kr. (domain §3): 12 lines of 84 facilities make a
    # central total above 10^13 kr., more digits than a spreadsheet keeps exactly
    huge = {**frame_body(), "lines": [{"category": category, "amount": "9999999999.99"}
                                      for category in COST_CATEGORIES]}
    assert api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", huge).status_code in (200, 201)
    for number in range(83):
        assert api.post("/v1/facilities", facility_body(f"HUGE-{number}")).status_code == 201
        assert api.put(f"/v1/facilities/HUGE-{number}/frame-budgets/2026", huge).status_code == 201
    refused = api.get("/v1/central/2026/export?format=xlsx")
    assert refused.status_code == 409 and refused.json()["rule"] == "amount_too_large_for_a_spreadsheet"
    page = browser.get("/ui/download/central/2026?format=xlsx")
    assert page.status_code == 409 and page.headers["content-type"].startswith("text/html")
    assert "Det kunne ikke lade sig gøre" in page.text


def test_failed_log_ins_count_against_the_address_as_on_the_api(settings, ledger, tokens):
    strict = settings.model_copy(update={"auth_failure_limit": 2})
    with TestClient(create_app(strict, ledger), raise_server_exceptions=False) as client:
        session = log_in(client, tokens["finance"])
        for _ in range(2):
            assert post_log_in(client, "lt_wrong").status_code == 401
        refused = post_log_in(client, tokens["finance"])
        assert refused.status_code == 429 and "For mange forsøg" in refused.text and "Retry-After" in refused.headers
        api = client.get("/v1/central/2026", headers={"Authorization": f"Bearer {tokens['finance']}"})
        assert api.status_code == 429
        # a session already open is no token guess: its pages still answer
        page = client.get("/ui/oversigt", headers=session_header(session), follow_redirects=False)
        assert page.status_code == 200


def test_a_download_waits_for_no_second_slot_of_its_client(world):
    """The UI's downloads are exports as the API's are: one client renders one at a time
    (docs/adr/0021); one more is a Danish page with 429 and Retry-After, not a second render."""
    api, browser = world
    slots = browser.client.app.state.export_slots
    slots.take("finance-tester")  # this client's export in progress
    try:
        busy = browser.get("/ui/download/central/2026?format=xlsx")
        assert busy.status_code == 429 and busy.headers["content-type"].startswith("text/html"), busy.text[:300]
        assert busy.headers["retry-after"] and "cache-control" in busy.headers
        assert browser.get("/ui/download/statements/751/2026/3?format=csv").status_code == 429
        assert browser.get("/ui/download/central/2026?format=csv", role="auditor").status_code == 200
    finally:
        slots.give_back("finance-tester")
    assert browser.get("/ui/download/central/2026?format=xlsx").status_code == 200
    assert not slots.running


def test_a_download_larger_than_an_export_may_be_is_refused_before_it_is_rendered(settings, ledger, tokens):
    tight = settings.model_copy(update={"auth_failure_limit": 10_000, "export_max_rows": 1})
    with TestClient(create_app(tight, ledger), raise_server_exceptions=False) as client:
        api, browser = Api(client, tokens), Browser(client, tokens)
        assert api.post("/v1/facilities", facility_body("GRENAA-BO")).status_code == 201
        assert api.post("/v1/facilities", facility_body("AUNING-BO")).status_code == 201
        assert api.get("/v1/central/2026/export?format=csv").json()["rule"] == "export_too_large"
        page = browser.get("/ui/download/central/2026?format=csv")
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html"), page.text[:300]
        assert "attachment" not in page.headers.get("content-disposition", "")
