"""The "Køberkommune" pages in a real headless Chromium against `ledger demo`, logged in with the
demo's buyer token (Aarhus, 751): the start page is its own citizens and the menu has nothing
else; a citizen's page shows the døgnskema; the statement page downloads the PDF that the API
gives for the same point, byte for byte; nothing leaves the service."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.e2e.browser import DemoServer, demo_server, launch, offline_context, require_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_chromium()
    yield from demo_server(tmp_path_factory.mktemp("buyer-ui"))


def test_a_buyer_sees_its_citizens_their_døgnskema_and_downloads_its_statement(server, tmp_path):
    from playwright.sync_api import sync_playwright

    headers = {"Authorization": f"Bearer {server.tokens['buyer']}"}
    citizens = httpx.get(f"{server.base}/v1/buyers/751/citizens", headers=headers, timeout=30).json()["citizens"]
    assert citizens, "the demo has citizens paid by Aarhus this year"
    statement_month = next(
        (year, month) for year, month in [(y, m) for y in (2026, 2025) for m in range(12, 0, -1)]
        if httpx.get(f"{server.base}/v1/statements/751/{year}/{month}", headers=headers, timeout=30).json()["lines"])
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context, elsewhere = offline_context(browser, server)
        page = context.new_page()
        page.goto(f"{server.base}/ui/login")
        page.fill("input[name=token]", server.tokens["buyer"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.base}/ui/koeber")
        assert page.locator("nav.main-nav a").all_inner_texts() == ["Køberkommune"]
        assert "Aarhus Kommune (751)" in page.locator("h1").inner_text()
        shown = set(page.locator("#buyer-citizens tbody tr td:first-child").all_inner_texts())
        assert shown == {row["citizen_ref"] for row in citizens}
        page.locator("#buyer-citizens tbody a").first.click()
        page.wait_for_url(f"{server.base}/ui/koeber/borger/**")
        assert page.locator("#paid-periods tbody tr").count() >= 1
        assert page.locator("table.schema").count() >= 1
        year, month = statement_month
        page.goto(f"{server.base}/ui/koeber/afregning?year={year}&month={month}")
        assert page.locator("#lines tbody tr").count() >= 1
        with page.expect_download() as started:
            page.click("#pdf-link")
        target = tmp_path / started.value.suggested_filename
        started.value.save_as(target)
        position = int(target.name.split("-position-")[1].removesuffix(".pdf"))
        api = httpx.get(f"{server.base}/v1/statements/751/{year}/{month}/document?as_of_position={position}",
                        headers=headers, timeout=30)
        assert api.headers["content-type"] == "application/pdf"
        assert target.read_bytes() == api.content and api.content.startswith(b"%PDF-")
        page.goto(f"{server.base}/ui")
        page.wait_for_url(f"{server.base}/ui/koeber")
        context.close()
        browser.close()
    assert elsewhere == [], f"the UI reached outside the service or broke its CSP: {elsewhere}"


def test_a_buyer_steps_back_and_forth_through_the_changes_of_its_list(server):
    """The list's step bar (docs/adr/0045): "Før ændringen" reads the list just before the last
    change that it shows Aarhus, which differs; "Næste ændring" comes back to that change; the
    bar names no actor and no event type."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        context, elsewhere = offline_context(browser, server)
        page = context.new_page()
        page.goto(f"{server.base}/ui/login")
        page.fill("input[name=token]", server.tokens["buyer"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.base}/ui/koeber")
        bar = page.locator("#steps").inner_text()
        assert "Senest ændret" in bar and "demo-" not in bar and "Betalende" not in bar
        now = page.locator("#buyer-citizens").inner_text()
        last = int(bar.split("(position ")[1].split(",")[0])
        page.click("#step-previous")
        page.wait_for_url(f"{server.base}/ui/koeber?as_of={last - 1}")
        before = page.locator("main").inner_text()
        assert page.locator("#buyer-citizens").count() == 0 or page.locator("#buyer-citizens").inner_text() != now
        assert "Næste ændring" in before and f"(position {last})" in before
        page.click("#step-next")
        page.wait_for_url(f"{server.base}/ui/koeber?as_of={last}")
        assert page.locator("#buyer-citizens").inner_text() == now
        context.close()
        browser.close()
    assert elsewhere == [], f"the UI reached outside the service or broke its CSP: {elsewhere}"
