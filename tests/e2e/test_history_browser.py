"""The what-if and the walk through history in a real headless Chromium against `ledger demo`
(issue 22, points 3 and 7), as a finance officer does it: a draft with level 1's rate raised
gives the API's what-if and downloads its CSV; a bad rate is refused beside its field; on
"Hændelser" a move-in leads to its facility's budget just before it, and the step bar to the
budget just after it; "Opgjort pr." takes a store position. Nothing leaves the service."""

from __future__ import annotations

import re
from typing import Any, Iterator

import httpx
import pytest

from service.ui.formatting import kroner, signed_kroner
from tests.e2e.browser import DemoServer, demo_server, launch, log_in, require_chromium
from tests.e2e.test_web_ui import offline_context


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_chromium()
    yield from demo_server(tmp_path_factory.mktemp("history-ui"))


@pytest.fixture
def finance(server: DemoServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        context, elsewhere = offline_context(browser, server)
        page = context.new_page()
        log_in(page, server.base, server.tokens["finance"])
        yield page
        context.close()
        browser.close()
    assert elsewhere == [], f"the UI reached outside the service or broke its CSP: {elsewhere}"


def test_a_what_if_and_a_walk_through_the_events(finance, server, tmp_path):
    headers = {"Authorization": f"Bearer {server.tokens['finance']}"}
    schedule = httpx.get(f"{server.base}/v1/tariff-schedules/2026", headers=headers, timeout=30).json()
    draft = {"levels": [{"level": l["level"], "min_hours": l["min_hours"], "max_hours": l["max_hours"],
                         "daily_rate": "900.00" if l["level"] == 1 else l["published_rate"]}
                        for l in schedule["levels"]],
             "special_tariffs": schedule["special_tariffs"], "hourly_rate": schedule["hourly_rate"]}
    expected = httpx.post(f"{server.base}/v1/regulation/2026/what-if", json=draft, headers=headers, timeout=60).json()

    finance.goto(f"{server.base}/ui/hvad-hvis?year=2026")
    assert finance.input_value("#rate_1") == kroner(schedule["levels"][0]["published_rate"])
    finance.fill("#rate_1", "900,00")
    finance.click("#draft button[type=submit]")
    finance.wait_for_url(re.compile(r".*rate_1=900%2C00.*"))
    totals = finance.locator("#what-if-facilities tfoot").inner_text()
    assert kroner(expected["totals"]["actual"]) in totals and signed_kroner(expected["totals"]["difference"]) in totals
    with finance.expect_download() as started:
        finance.click("text=CSV")
    target = tmp_path / started.value.suggested_filename
    started.value.save_as(target)
    exported = httpx.post(f"{server.base}/v1/regulation/2026/what-if/export?format=csv", json=draft, headers=headers,
                          timeout=60).content
    assert target.name == "hvad-hvis-2026.csv" and target.read_bytes() == exported
    finance.fill("#rate_2", "mange penge")
    finance.click("#draft button[type=submit]")
    assert "er ikke et beløb" in finance.locator("#rate_2-error").inner_text()
    assert finance.locator("#what-if-facilities").count() == 0

    finance.click("nav.main-nav >> text=Hændelser")
    finance.select_option("select[name=type]", "CitizenMovedIn")
    finance.click("#event-filters button[type=submit]")
    first = finance.locator("#events tbody tr").first
    assert "Indflytning" in first.inner_text()
    position = int(first.get_attribute("data-position"))
    first.locator("a.before").click()
    assert f"Opgjort pr. position {position - 1}." in finance.locator("p.as-of-note").inner_text()
    finance.click("#step-next")
    assert f"Opgjort pr. position {position}." in finance.locator("p.as-of-note").inner_text()
    assert re.search(rf"Senest ændret ved Indflytning \(position {position}\b", finance.locator("#steps").inner_text())

    finance.goto(f"{server.base}/ui/oversigt?year=2026")
    finance.fill("input[name=as_of]", str(position))
    finance.click("form.controls button[type=submit]")
    assert f"Opgjort pr. position {position}." in finance.locator("p.as-of-note").inner_text()
