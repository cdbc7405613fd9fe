"""The døgnskema flow in a real headless Chromium against `ledger serve`: a case worker fills
in a move-in's døgnskema, sees hours and level with "Beregn" before saving, saves it, then
reassesses from the citizen's page above level 8, where the same form asks for the special
tariff; the citizen page shows both assessments and what changed. No script runs and nothing
leaves the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.settings import Settings
from tests.e2e.browser import launch, log_in, require_chromium
from tests.e2e.server import Server, token
from tests.factories import facility_body, schedule_body


def test_a_case_worker_records_a_move_in_and_a_reassessment_with_a_døgnskema(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    admin, caseworker = token(settings, "admin", "admin-e2e"), token(settings, "caseworker", "sagsbehandler-e2e")
    with Server(settings, tmp_path) as server:
        with server.client(admin) as api:
            assert api.post("/v1/facilities", json=facility_body("GRENAA-BO")).status_code == 201
            assert api.put("/v1/tariff-schedules/2026", json=schedule_body()).status_code == 201
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context()
            elsewhere: list[str] = []
            context.on("request", lambda r: None if r.url.startswith(server.base) else elsewhere.append(r.url))
            page: Any = context.new_page()
            log_in(page, server.base, caseworker)

            page.goto(f"{server.base}/ui/borger")
            page.click("#new-move-in")
            page.fill("input[name=citizen_ref]", "BOR-E2E")
            page.select_option("select[name=facility]", "GRENAA-BO")
            page.select_option("select[name=paying_municipality]", "751")
            page.fill("input[name=effective_date]", "2026-03-01")
            page.fill("#m-egenomsorg-morning-direct", "120")
            page.fill("#m-mobilitet-evening-indirect", "90")
            page.fill("#m-relationer-night-direct", "90")
            page.click("#preview-button")
            assert page.inner_text("#preview-hours") == "5,00" and page.inner_text("#preview-level") == "Niveau 3"
            assert page.input_value("#m-relationer-night-direct") == "90"  # the form keeps what was typed
            page.click("#save-button")
            assert page.inner_text("#recorded-level") == "Niveau 3"

            page.click("#to-citizen")
            assert page.locator("#skema-1 td[data-cell=m-egenomsorg-morning-direct]").inner_text() == "120"
            page.click("#new-reassessment")
            assert page.input_value("#m-egenomsorg-morning-direct") == "120"  # starts from the one in force
            page.fill("input[name=effective_date]", "2026-05-01")
            page.fill("#m-egenomsorg-daytime-direct", "900")
            page.click("#preview-button")
            assert page.inner_text("#preview-level") == "Over niveau 8" and page.is_visible("#needs-special")
            page.select_option("select[name=special_code]", "S1")
            page.fill("input[name=special_rate]", "6.250,00")
            page.fill("textarea[name=reason]", "Døgndækning")
            page.click("#save-button")
            assert page.inner_text("#recorded-level") == "Særtakst S1"

            page.click("#to-citizen")
            assert page.locator("article.assessment").count() == 2
            assert "Tilføjet: Egenomsorg, dag (10-16), direkte 900 min." in page.inner_text("#assessment-2")
            context.close()
            browser.close()
        with server.client(admin) as api:
            periods = api.get("/v1/citizens/BOR-E2E").json()["stays"][0]["periods"]
        assert [(p["level"], p["special_tariff"], p["hours_per_day"]) for p in periods] == [
            (3, None, "5.00"), (None, "S1", "20.00")]
    assert elsewhere == [], f"the UI reached outside the service: {elsewhere}"

