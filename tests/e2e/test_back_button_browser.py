"""Back after "Gem", in a real headless Chromium against `ledger serve`, on both stores: the
form page is `no-store`, so Back fetches it anew with a fresh idempotency key while Chromium
restores what was typed (all but the inputs marked autocomplete=off, which the user types
again), and "Gem" again must record nothing (docs/adr/0044). A case worker's
move-in with a døgnskema and a reassessment, and finance's capacity form: each sent again
after Back is refused beside the form in Danish with the time it was saved and nothing
recorded; "Registrer igen" records the reassessment once more. The generic forms against the
demo are tests/e2e/test_forms_browser.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.e2e.browser import launch, log_in, require_chromium
from tests.e2e.server import Server, token
from tests.factories import facility_body, schedule_body


def position(server: Server) -> int:
    return int(httpx.get(f"{server.base}/health", timeout=30).json()["position"])


def test_a_form_sent_again_after_going_back_records_once_on_each_store(settings, tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    admin, caseworker = token(settings, "admin", "admin-e2e"), token(settings, "caseworker", "sagsbehandler-e2e")
    finance = token(settings, "finance", "oekonomi-e2e")
    with Server(settings, tmp_path) as server:
        with server.client(admin) as api:
            assert api.post("/v1/facilities", json=facility_body("GRENAA-BO")).status_code == 201
            assert api.put("/v1/tariff-schedules/2026", json=schedule_body()).status_code == 201
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page: Any = browser.new_context().new_page()
            log_in(page, server.base, caseworker)
            page.goto(f"{server.base}/ui/indflytning")
            page.fill("input[name=citizen_ref]", "BOR-BACK")
            page.select_option("select[name=facility]", "GRENAA-BO")
            page.fill("input[name=effective_date]", "2026-03-01")
            page.fill("#m-egenomsorg-morning-direct", "120")
            page.click("#save-button")
            assert page.locator("#recorded-level").count() == 1
            moved_in = position(server)
            page.go_back()
            assert page.input_value("input[name=effective_date]") == "2026-03-01"  # restored by Chromium
            page.fill("input[name=citizen_ref]", "BOR-BACK")  # inputs with autocomplete=off are not restored:
            page.fill("#m-egenomsorg-morning-direct", "120")  # the user types them again
            page.click("#save-button")
            assert "Denne registrering er allerede gemt i denne session kl. " in page.inner_text("#already-recorded")
            assert position(server) == moved_in

            page.goto(f"{server.base}/ui/revurdering?ref=BOR-BACK")
            page.fill("input[name=effective_date]", "2026-05-01")
            page.fill("#m-egenomsorg-daytime-direct", "60")
            page.click("#save-button")
            assert page.locator("#recorded-level").count() == 1
            reassessed = position(server)
            page.go_back()  # the form anew: its døgnskema the one in force now, the one just saved
            assert page.input_value("#m-egenomsorg-daytime-direct") == "60"
            page.fill("input[name=effective_date]", "2026-05-01")
            page.click("#save-button")
            assert f"position {reassessed}," in page.inner_text("#already-recorded")
            assert position(server) == reassessed
            page.check("#register-again")
            page.click("#save-button")
            assert page.locator("#recorded-level").count() == 1 and position(server) == reassessed + 1
            page.context.close()

            page = browser.new_context().new_page()
            log_in(page, server.base, finance)
            page.goto(f"{server.base}/ui/registrer/capacity?code=GRENAA-BO")
            page.fill("input[name=places]", "14")
            page.fill("input[name=effective_date]", "2026-09-01")
            page.click("button[value=gem]")
            assert page.inner_text("h1") == "Registreret: Ændr antal pladser"
            changed = position(server)
            page.go_back()
            page.click("button[value=gem]")
            assert "allerede gemt" in page.inner_text("#already-recorded") and position(server) == changed
            page.context.close()
            browser.close()
        with server.client(admin) as api:
            events = api.get("/v1/citizens/BOR-BACK").json()["events"]
        assert [e["type"] for e in events] == ["CitizenMovedIn", "CitizenReassessed", "CitizenReassessed"]
