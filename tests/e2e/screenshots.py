"""Screenshots of the web UI for the guides (docs/brugervejledning.md, docs/guide-koeberkommune.md):
the demo municipality in a real `ledger serve`, each page in headless Chromium, saved as PNGs
in docs/screenshots/ (tests/e2e/test_screenshots.py checks the guides show exactly these).

    make screenshots        (or: .venv/bin/python -m tests.e2e.screenshots [OUTPUT_DIRECTORY])

Date fields show as on a Danish desktop (10.03.2026) where Debian's chromium-l10n is installed.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from service.ledger import BudgetLedger
from tests.e2e.browser import demo_server, launch, log_in

ROOT = Path(__file__).resolve().parents[2]


def pages(year: int) -> dict[str, str]:
    """Each screenshot's name and the page it shows."""
    yesterday = (BudgetLedger.today() - timedelta(days=1)).isoformat()
    return {
        "overview": f"/ui/oversigt?year={year}",
        "facility": f"/ui/tilbud/GRE-STJERNEN?year={year}",
        "explain": f"/ui/forklar?facility=GRE-STJERNEN&year={year}&month=3&fra={yesterday}",
        "citizen": "/ui/borger/BOR-0003",
        "statements": f"/ui/afregning?municipality=751&year={year}&month=3",
        "regulation": f"/ui/efterregulering?year={year - 1}",
        "events": "/ui/haendelser",
        "what-if": f"/ui/hvad-hvis?year={year}&rate_1=700,00&rate_2=1.400,00",
    }


def form_shots(page: Any, base: str, output: Path, year: int) -> list[Path]:
    """The forms of a finance officer (docs/brugervejledning.md): the list of forms, a frame
    budget with its total and basistakst shown before saving, then saved; a schedule prefilled
    from the year before; closing a year with its warning; a refused value beside its field."""
    shots = []

    def shot(name: str) -> None:
        shots.append(output / f"{name}.png")
        page.screenshot(path=str(shots[-1]), full_page=True)

    page.goto(f"{base}/ui/registrer")
    shot("forms")
    page.goto(f"{base}/ui/registrer/frame-budget?code=GRE-HAVEN&year={year + 1}")
    page.click("button[value=beregn]")
    shot("form-frame-budget")
    page.click("button[value=gem]")
    shot("form-recorded")
    page.goto(f"{base}/ui/registrer/tariff-schedule?year={year + 2}")
    shot("form-tariff-schedule")
    page.goto(f"{base}/ui/registrer/accounts?code=GRE-HAVEN&year={year}")
    shot("form-accounts")
    page.goto(f"{base}/ui/registrer/capacity?code=GRE-HAVEN")
    page.fill("input[name=places]", "0")
    page.click("button[value=gem]")
    shot("form-refused")
    return shots


def take(output: Path, year: int = 2026) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory() as directory:
        for server in demo_server(Path(directory)):
            with sync_playwright() as playwright:
                browser = launch(playwright, "da-DK")  # date fields as a Danish desktop shows them
                page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="da-DK")
                page.goto(f"{server.base}/ui/login")
                saved.append(output / "login.png")
                page.screenshot(path=str(saved[-1]))
                log_in(page, server.base, server.tokens["finance"])
                for name, path in pages(year).items():
                    page.goto(server.base + path)
                    saved.append(output / f"{name}.png")
                    page.screenshot(path=str(saved[-1]), full_page=True)
                saved += form_shots(page, server.base, output, year)
                saved.append(doegnskema(browser, server.base, server.tokens["caseworker"], output))
                saved += caseworker_shots(browser, server.base, server.tokens["caseworker"], output)
                saved += buyer_shots(browser, server.base, server.tokens["buyer"], output)
                browser.close()
    return saved


DØGNSKEMA = {"egenomsorg-morning-direct": 90, "egenomsorg-evening-direct": 60, "praktiske_opgaver-daytime-direct": 45,
             "praktiske_opgaver-daytime-indirect": 15, "mobilitet-morning-direct": 30, "relationer-evening-direct": 45,
             "mentale_funktioner-daytime-direct": 60, "sundhedsforhold-morning-indirect": 20,
             "sundhedsforhold-night-direct": 90, "sociale_forhold-daytime-indirect": 30}
"""A case worker's døgnskema for the screenshot: 485 minutes, level 5 in the demo's schedule."""


def doegnskema(browser: Any, base: str, token: str, output: Path) -> Path:
    """The move-in form of a case worker, its døgnskema filled in and "Beregn" pressed."""
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="da-DK")
    log_in(page, base, token)
    page.goto(f"{base}/ui/indflytning?ref=BOR-0999")
    page.select_option("select[name=facility]", "GRE-STJERNEN")
    page.select_option("select[name=paying_municipality]", "751")
    page.fill("input[name=effective_date]", "2026-03-01")
    for cell, minutes in DØGNSKEMA.items():
        page.fill(f"#m-{cell}", str(minutes))
    page.click("#preview-button")
    path = output / "doegnskema.png"
    page.screenshot(path=str(path), full_page=True)
    page.close()
    return path


def caseworker_shots(browser: Any, base: str, token: str, output: Path) -> list[Path]:
    """A case worker's move-out of a citizen, and the retraction of the citizen's latest event
    from its row with the reason typed (neither is saved)."""
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="da-DK")
    log_in(page, base, token)
    page.goto(f"{base}/ui/registrer/move-out?citizen_ref=BOR-0003")
    page.fill("input[name=effective_date]", "2026-12-31")
    shots = [output / "form-move-out.png"]
    page.screenshot(path=str(shots[-1]), full_page=True)
    page.goto(f"{base}/ui/borger/BOR-0003")
    page.locator("#events a.retract").last.click()
    page.fill("textarea[name=reason]", "Forkert dato")
    shots.append(output / "form-retraction.png")
    page.screenshot(path=str(shots[-1]), full_page=True)
    page.close()
    return shots


def buyer_shots(browser: Any, base: str, token: str, output: Path) -> list[Path]:
    """The "Køberkommune" pages of the demo's buyer (Aarhus, 751): its citizens, and the
    support of the first of them."""
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="da-DK")
    page.goto(f"{base}/ui/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/koeber")
    shots = [output / "koeber.png"]
    page.screenshot(path=str(shots[-1]), full_page=True)
    page.locator("#buyer-citizens tbody a").first.click()
    page.wait_for_url(f"{base}/ui/koeber/borger/**")
    shots.append(output / "koeber-borger.png")
    page.screenshot(path=str(shots[-1]), full_page=True)
    page.close()
    return shots


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    for path in take(target):
        print(path)
