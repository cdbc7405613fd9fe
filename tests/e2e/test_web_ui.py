"""The web UI in a real headless Chromium against a real `ledger serve` holding the demo
municipality (SQLite): log-in to a server-side session and log-out (the old cookie refused
after, over plain HTTP too), a cross-site log-in refused, the overview and facility charts,
"Hvorfor ændrede det sig?", a citizen's timeline and a spreadsheet download; and nothing is
loaded from the network."""

from __future__ import annotations

import re
import subprocess
from typing import Any, Iterator

import httpx
import openpyxl
import pytest

from tests.e2e.browser import DemoServer, demo_server, launch, log_in, offline_context, require_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_chromium()
    yield from demo_server(tmp_path_factory.mktemp("web-ui"))


@pytest.fixture(scope="module")
def browser(server: DemoServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: DemoServer) -> Iterator[Any]:
    """A page of a fresh context, not logged in."""
    context, elsewhere = offline_context(browser, server)
    yield context.new_page()
    context.close()
    assert elsewhere == [], f"the UI reached outside the service or broke its CSP: {elsewhere}"


@pytest.fixture(scope="module")
def finance_session(browser: Any, server: DemoServer) -> Iterator[tuple[Any, list[str]]]:
    """One log-in with the finance token that `ledger demo` printed, shared by the tests."""
    context, elsewhere = offline_context(browser, server)
    log_in(context.new_page(), server.base, server.tokens["finance"])
    yield context, elsewhere
    context.close()


@pytest.fixture
def finance(finance_session: tuple[Any, list[str]]) -> Iterator[Any]:
    context, elsewhere = finance_session
    page = context.new_page()
    yield page
    page.close()
    assert elsewhere == [], f"the UI reached outside the service or broke its CSP: {elsewhere}"


def test_a_wrong_token_is_refused_and_the_printed_finance_token_opens_a_session_until_log_out(page, server):
    page.goto(f"{server.base}/ui/tilbud/GRE-STJERNEN")
    assert page.url.startswith(f"{server.base}/ui/login?next=")
    page.fill("input[name=token]", server.tokens["finance"][:-3] + "abc")
    page.click("button[type=submit]")
    assert "Tokenet blev ikke genkendt" in page.inner_text(".problem")
    page.fill("input[name=token]", server.tokens["finance"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.base}/ui/tilbud/GRE-STJERNEN")
    assert page.inner_text("h1").startswith("Bostedet Stjernen")
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads the session's id
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["ledger_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/ui"
    assert server.tokens["finance"].split("_", 2)[2] not in session["value"] and "ledger_token" not in cookies
    old_cookie = {"Cookie": f"ledger_session={session['value']}"}
    assert httpx.get(f"{server.base}/ui/oversigt", headers=old_cookie).status_code == 200
    page.click("text=Log ud")
    page.wait_for_url(f"{server.base}/ui/login?besked=logget-ud")
    assert "ledger_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{server.base}/ui/oversigt")
    assert "/ui/login" in page.url
    replayed = httpx.get(f"{server.base}/ui/oversigt", headers=old_cookie)  # as curl would, after log-out
    assert replayed.status_code == 303 and replayed.headers["location"].endswith("besked=ugyldig")
    page.context.add_cookies([{**session, "expires": -1}])  # the old cookie put back into the browser
    page.goto(f"{server.base}/ui/oversigt")
    assert "/ui/login" in page.url and "ikke gyldig længere" in page.inner_text("main")


def test_another_sites_form_cannot_log_the_browser_in(browser, server):
    """Log-in CSRF: a page on another site posts a token to the UI's log-in from the user's
    browser. Chromium sends that site as Origin and no UI cookie: a Danish 403, no session."""
    context = browser.new_context()
    evil = ("<!doctype html><form method='post' action='{base}/ui/login'>"
            "<input name='token' value='{token}'><input name='csrf_token' value='x'>"
            "<button type='submit'>Vind en pris</button></form>").format(base=server.base,
                                                                          token=server.tokens["caseworker"])
    context.route("http://evil.test/**", lambda route: route.fulfill(status=200, content_type="text/html", body=evil))
    page = context.new_page()
    try:
        page.goto("http://evil.test/prize")
        page.click("text=Vind en pris")
        page.wait_for_url(f"{server.base}/ui/**")
        assert page.url == f"{server.base}/ui/login" and "Formularen blev afvist" in page.inner_text("main")
        assert "ledger_session" not in {c["name"] for c in context.cookies()}
        page.goto(f"{server.base}/ui/oversigt")
        assert "/ui/login" in page.url
    finally:
        context.close()


def test_the_overview_charts_twelve_months_of_frame_and_activity_for_the_municipality(finance, server):
    finance.goto(f"{server.base}/ui/oversigt?year=2026")
    chart = finance.locator("#municipality-chart svg")
    assert chart.locator("g.bar").count() == 12
    assert chart.locator("g.bar rect.frame").count() == 12 and chart.locator("g.bar rect.activity").count() == 12
    assert "20.000.000 kr." in chart.text_content() and "0 kr." in chart.text_content()
    assert finance.locator("#facilities tbody tr").count() == 12
    assert finance.locator("#facilities tfoot").inner_text().split("\t")[2].strip() == "154"
    finance.select_option("select[name=month]", "3")
    finance.click("form.controls button[type=submit]")
    assert "marts" in finance.inner_text("h1")
    assert finance.locator("#municipality-chart g.bar.selected").get_attribute("data-label") == "mar"


def test_a_facility_page_charts_its_months_with_its_key_figures_and_stays(finance, server):
    finance.goto(f"{server.base}/ui/oversigt?year=2026")
    finance.click("#facilities >> text=Bostedet Stjernen")
    assert finance.locator("#facility-chart svg g.bar").count() == 12
    assert finance.locator("#facility-chart svg g.bar rect.activity").count() == 12
    figures = finance.inner_text("section.figures")
    assert "Normeringstimer" in figures and "årsværk" in figures and "Belægning" in figures
    assert finance.locator("#months tbody tr").count() == 12
    finance.click("#stays >> text=BOR-0003")
    assert finance.inner_text("h1") == "Borger BOR-0003"


def test_explain_between_two_dates_names_the_actor_and_reason_of_a_correction(finance, server):
    finance.goto(f"{server.base}/ui/forklar")
    finance.select_option("select[name=facility]", "GRE-STJERNEN")
    finance.fill("input[name=year]", "2026")
    finance.select_option("select[name=month]", "3")
    finance.fill("input[name=fra]", "2000-01-01")  # before the demo was recorded, whatever the clock says
    finance.click("form.controls button[type=submit]")
    retraction = finance.locator("#changes tr.retraction").first
    assert "demo-sagsbehandler" in retraction.inner_text()
    assert "Forkert døgnskema registreret" in retraction.inner_text()
    assert retraction.locator("td.num.neg").count() == 1  # the wrong reassessment's money leaves the month


def test_the_citizen_timeline_marks_a_retracted_event_with_who_and_why(finance, server):
    finance.goto(f"{server.base}/ui/borger")
    finance.fill("input[name=ref]", "BOR-0003")
    finance.click("form.controls button[type=submit]")
    retracted = finance.locator("#events tr.retracted")
    assert retracted.count() >= 1
    assert "Tilbagekaldt" in retracted.first.inner_text()
    assert "demo-sagsbehandler: Forkert døgnskema registreret" in retracted.first.inner_text()
    assert finance.locator("table.periods tbody tr").count() >= 1


def test_the_overview_downloads_the_central_model_as_a_workbook_with_numbers(finance, server, tmp_path):
    finance.goto(f"{server.base}/ui/oversigt?year=2026")
    with finance.expect_download() as started:
        finance.click("text=Excel (xlsx)")
    download = started.value
    assert download.suggested_filename.endswith(".xlsx")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    numbers = [c for sheet in openpyxl.load_workbook(target).worksheets for row in sheet.iter_rows(values_only=True)
               for c in row if isinstance(c, (int, float)) and not isinstance(c, bool)]
    assert len(numbers) > 100 and max(numbers) > 1_000_000


def curl(*args: str) -> tuple[int, str]:
    """One request with curl: the status and the whole response (headers and body)."""
    done = subprocess.run(["curl", "-s", "-i", "--max-time", "20", *args], capture_output=True, text=True,
                          timeout=30, check=True)
    return int(done.stdout.split(" ", 2)[1]), done.stdout


def test_with_curl_every_ui_post_needs_the_forms_token_and_the_uis_origin(server, tmp_path):
    jar, base = str(tmp_path / "cookies.txt"), server.base
    own, evil = f"Origin: {base}", "Origin: https://evil.example"
    status, form = curl("-c", jar, f"{base}/ui/login")
    login_token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form).group(1)  # type: ignore[union-attr]
    token = f"token={server.tokens['auditor']}"
    assert curl("-b", jar, "-H", evil, "-d", token, "-d", f"csrf_token={login_token}", f"{base}/ui/login")[0] == 403
    assert curl("-H", evil, "-d", token, f"{base}/ui/login")[0] == 403  # another site's form: no cookie either
    assert curl("-b", jar, "-H", own, "-d", token, f"{base}/ui/login")[0] == 403  # no form token
    status, opened = curl("-b", jar, "-c", jar, "-H", own, "-d", token, "-d", f"csrf_token={login_token}",
                          f"{base}/ui/login")
    assert status == 303 and "ledger_session=" in opened and server.tokens["auditor"] not in opened
    session = re.search(r"ledger_session=([^;\s]+)", opened).group(1)  # type: ignore[union-attr]
    status, shown = curl("-b", jar, f"{base}/ui/oversigt")
    assert status == 200
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', shown).group(1)  # type: ignore[union-attr]
    assert curl("-b", jar, "-H", own, "-X", "POST", f"{base}/ui/logout")[0] == 403
    assert curl("-b", jar, "-H", own, "-d", "csrf_token=" + "0" * 64, f"{base}/ui/logout")[0] == 403
    assert curl("-b", jar, "-H", evil, "-d", f"csrf_token={csrf}", f"{base}/ui/logout")[0] == 403
    assert curl("-b", jar, f"{base}/ui/oversigt")[0] == 200  # none of those logged out
    assert curl("-b", jar, "-H", own, "-d", f"csrf_token={csrf}", f"{base}/ui/logout")[0] == 303
    status, replayed = curl("-H", f"Cookie: ledger_session={session}", f"{base}/ui/oversigt")
    assert status == 303 and "besked=ugyldig" in replayed
