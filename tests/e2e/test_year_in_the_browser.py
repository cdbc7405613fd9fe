"""Issue 22's "done when", in a real headless Chromium against `ledger serve`, on SQLite and on
PostgreSQL: a case worker records a move-in with a døgnskema, a reassessment and a move-out; a
finance officer closes the year with its accounts, reads its regulation, runs a what-if, and
sets up the next year (tariff schedule prefilled from the year before, frame budget). Nothing
is sent but by the browser's forms, each form sent again by a reload records nothing more, and
every figure a page shows equals the API's."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from service.settings import Settings
from service.ui.formatting import kroner, signed_kroner
from tests.e2e.browser import launch, log_in, require_chromium, sent_again_records_nothing
from tests.e2e.server import Server, token
from tests.factories import facility_body, frame_body, schedule_body

REF = "BOR-AAR"


def test_a_year_is_run_in_the_browser_with_every_figure_equal_to_the_api(settings: Settings, tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    admin = token(settings, "admin", "admin-e2e")
    tokens = {role: token(settings, role, f"{role}-e2e") for role in ("finance", "caseworker")}
    with Server(settings, tmp_path) as server:
        with server.client(admin) as api:  # the year as finance left it when it began
            assert api.post("/v1/facilities", json=facility_body("GRENAA-BO")).status_code == 201
            assert api.put("/v1/tariff-schedules/2026", json=schedule_body()).status_code == 201
            assert api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", json=frame_body()).status_code == 201
        with sync_playwright() as playwright:
            browser = launch(playwright)
            elsewhere: list[str] = []

            def session(role: str) -> Any:
                context = browser.new_context()
                context.on("request", lambda r: None if r.url.startswith(server.base) else elsewhere.append(r.url))
                page = context.new_page()
                log_in(page, server.base, tokens[role])
                return page

            caseworker = session("caseworker")
            move_in_reassess_and_move_out(caseworker, server.base)
            caseworker.context.close()

            finance = session("finance")
            with server.client(admin) as api:
                close_the_year_and_regulate(finance, server.base, api)
                run_a_what_if(finance, server.base, api)
                set_up_the_next_year(finance, server.base, api)
                budget = api.get("/v1/budgets/GRENAA-BO/2026").json()
                finance.goto(f"{server.base}/ui/tilbud/GRENAA-BO?year=2026")
                year = finance.locator("tfoot").first.inner_text()
                assert kroner(budget["totals"]["total"]) in year and kroner(budget["totals"]["activity"]) in year
            finance.context.close()
            browser.close()
    assert elsewhere == [], f"the UI reached outside the service: {elsewhere}"


def move_in_reassess_and_move_out(page: Any, base: str) -> None:
    page.goto(f"{base}/ui/registrer")
    page.click("text=Indflytning")
    page.fill("input[name=citizen_ref]", REF)
    page.select_option("select[name=facility]", "GRENAA-BO")
    page.select_option("select[name=paying_municipality]", "751")
    page.fill("input[name=effective_date]", "2026-03-01")
    page.fill("#m-egenomsorg-morning-direct", "120")
    page.fill("#m-mobilitet-evening-indirect", "90")
    page.fill("#m-relationer-night-direct", "90")
    page.click("#preview-button")
    assert page.inner_text("#preview-level") == "Niveau 3"
    page.click("#save-button")
    assert page.inner_text("#recorded-level") == "Niveau 3"
    sent_again_records_nothing(page, base)

    page.click("#to-citizen")
    page.click("#new-reassessment")
    page.fill("input[name=effective_date]", "2026-06-01")
    page.fill("#m-egenomsorg-daytime-direct", "120")
    page.click("#save-button")
    assert page.inner_text("#recorded-level") == "Niveau 4"
    sent_again_records_nothing(page, base)

    page.click("#to-citizen")
    page.click("#citizen-actions >> text=Udflytning")
    page.fill("input[name=effective_date]", "2026-09-30")
    page.select_option("select[name=kind]", "moved")
    page.click("button[value=gem]")
    assert page.inner_text("h1") == "Registreret: Udflytning"
    sent_again_records_nothing(page, base)


def close_the_year_and_regulate(page: Any, base: str, api: Any) -> None:
    page.goto(f"{base}/ui/registrer/accounts?code=GRENAA-BO&year=2026")
    assert "efterreguleringer" in page.inner_text("main")  # the warning before the year is closed
    page.fill("input[name=actual_costs]", "3.400.000,00")
    page.fill("textarea[name=reason]", "Regnskab 2026")
    page.click("button[value=gem]")
    assert page.inner_text("h1") == "Registreret: Regnskab (luk året)"
    sent_again_records_nothing(page, base)

    regulation = api.get("/v1/regulation/2026").json()
    assert [f["facility"] for f in regulation["facilities"]] == ["GRENAA-BO"]
    page.goto(f"{base}/ui/efterregulering?year=2026")
    totals = page.locator("#regulation tfoot").inner_text()
    for amount in ("revenue", "actual_costs", "result", "to_tariff"):
        assert kroner(regulation["totals"][amount]) in totals, amount


def run_a_what_if(page: Any, base: str, api: Any) -> None:
    schedule = api.get("/v1/tariff-schedules/2026").json()
    rate = Decimal(schedule["levels"][2]["published_rate"]) + 125
    draft = {"levels": [{"level": l["level"], "min_hours": l["min_hours"], "max_hours": l["max_hours"],
                         "daily_rate": str(rate) if l["level"] == 3 else l["published_rate"]}
                        for l in schedule["levels"]],
             "special_tariffs": schedule["special_tariffs"], "hourly_rate": schedule["hourly_rate"]}
    expected = api.post("/v1/regulation/2026/what-if", json=draft).json()
    page.goto(f"{base}/ui/hvad-hvis?year=2026")
    page.fill("#rate_3", kroner(rate))
    page.click("#draft button[type=submit]")
    totals = page.locator("#what-if-facilities tfoot").inner_text()
    assert kroner(expected["totals"]["what_if"]) in totals
    assert signed_kroner(expected["totals"]["difference"]) in totals and expected["totals"]["difference"] != "0.00"


def set_up_the_next_year(page: Any, base: str, api: Any) -> None:
    page.goto(f"{base}/ui/registrer/tariff-schedule?year=2027")
    assert "Udfyldt med takstbladet for 2026" in page.inner_text("main")
    page.click("button[value=gem]")
    assert page.inner_text("h1") == "Registreret: Takstblad"
    sent_again_records_nothing(page, base)
    published, earlier = api.get("/v1/tariff-schedules/2027").json(), api.get("/v1/tariff-schedules/2026").json()
    assert [l["published_rate"] for l in published["levels"]] == [l["published_rate"] for l in earlier["levels"]]

    page.goto(f"{base}/ui/registrer/frame-budget?code=GRENAA-BO&year=2027")
    page.fill("input[name=budgeted_places]", "10")
    page.fill("input[name=planned_occupancy_pct]", "100")
    page.fill('input[name="lines.0.amount"]', "1.825.000")
    page.click("button[value=beregn]")
    preview = page.inner_text("#frame-basistakst")
    page.click("button[value=gem]")
    assert page.inner_text("h1") == "Registreret: Rammebudget"
    sent_again_records_nothing(page, base)
    frame = api.get("/v1/facilities/GRENAA-BO/frame-budgets/2027").json()
    assert preview == f"{kroner(frame['basistakst'])} kr. pr. døgn"
