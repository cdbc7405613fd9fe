"""The forms that record, in a real headless Chromium against a real `ledger demo` (issue 22.11),
one browser per role for the whole module: a frame budget with its total and basistakst shown
before saving, then saved and explained; a refused value shown beside its field with the input
kept; a domain rule (a move-in of a citizen who lives somewhere) refused in Danish; a form sent
twice (the answer's page reloaded, which posts it again) recording once; a move-in, a move-out
and a retraction from the event's row; and a role that may not send a form getting neither the
link nor the form; every other form sent, then sent again by a reload, recording once; and
every form refused, with its Danish message, to each role that may not send it; and each other
kind of refusal, with what was typed kept and nothing recorded: a citizen or facility the ledger
does not hold (beside its field), a form key already used for other values, a form without its
key, a wrong CSRF token. Every figure is checked against the API; the cases of each refusal in
depth are tests/api/test_ui_forms.py's."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from service.commands.declarations import COMMANDS
from tests.e2e.browser import DemoServer, demo_server, launch, log_in, require_chromium, sent_again_records_nothing


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_chromium()
    yield from demo_server(tmp_path_factory.mktemp("forms"))


@pytest.fixture(scope="module")
def browser(server: DemoServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def session(browser: Any, server: DemoServer, role: str) -> Any:
    """A page logged in with the token `ledger demo` printed for `role`; nothing it loads may
    come from elsewhere."""
    context = browser.new_context()
    context.on("request", lambda request: None if request.url.startswith(server.base) else pytest.fail(
        f"the UI reached outside the service: {request.url}"))
    page = context.new_page()
    log_in(page, server.base, server.tokens[role])
    return page


def api(server: DemoServer, path: str, role: str = "admin") -> Any:
    response = httpx.get(server.base + path, headers={"Authorization": f"Bearer {server.tokens[role]}"})
    assert response.status_code == 200, response.text
    return response.json()


def error_beside(page: Any, name: str) -> str:
    return page.inner_text(f'.field-error[data-field="{name}"]')


def test_finance_sets_a_frame_budget_sees_its_basistakst_and_explains_the_change(browser, server):
    page = session(browser, server, "finance")
    page.click("nav.main-nav >> text=Registrér")
    page.click("text=Rammebudget")
    page.select_option("#command-form select[name=code]", "GRE-HAVEN")
    page.fill("#command-form input[name=year]", "2028")
    page.fill("input[name=budgeted_places]", "10")
    page.fill("input[name=planned_occupancy_pct]", "100")
    page.fill('input[name="lines.0.amount"]', "1.500.000,00")
    page.fill('input[name="lines.3.amount"]', "2.160.000")
    page.click("button[value=beregn]")
    assert page.inner_text("#frame-total") == "3.660.000,00 kr."
    assert page.inner_text("#frame-basistakst") == "1.000,00 kr. pr. døgn"  # 3.660.000 / (10 × 366 × 100 %)
    assert page.input_value('input[name="lines.3.amount"]') == "2.160.000"  # kept as typed
    page.click("button[value=gem]")
    assert page.inner_text("h1") == "Registreret: Rammebudget"
    frame = api(server, "/v1/facilities/GRE-HAVEN/frame-budgets/2028")
    assert frame["total"] == "3660000.00" and frame["basistakst"] == "1000.00"
    assert "Rammebudget fastsat" in page.inner_text("#recorded-events")
    sent_again_records_nothing(page, server.base)
    page.click("nav.after-links >> text=Hvorfor ændrede det sig?")
    changes = page.locator("#changes tbody tr")
    assert changes.count() == 1 and "Rammebudget fastsat" in changes.inner_text()
    assert "+3.660.000,00" in changes.inner_text()
    page.context.close()


def test_refusals_are_shown_beside_their_field_and_record_nothing(browser, server):
    finance = session(browser, server, "finance")
    places = api(server, "/v1/facilities/GRE-KYSTEN")
    finance.goto(f"{server.base}/ui/registrer/capacity?code=GRE-KYSTEN")
    finance.fill("input[name=places]", "0")
    finance.fill("textarea[name=reason]", "Ombygning")
    finance.click("button[value=gem]")
    assert error_beside(finance, "places") == "Skal være mindst 1."
    assert finance.input_value("textarea[name=reason]") == "Ombygning"
    assert "Intet er registreret" in finance.inner_text("#form-problems")
    finance.context.close()

    caseworker = session(browser, server, "caseworker")
    resident = open_stay_citizen(server)
    events = api(server, f"/v1/citizens/{resident}")["events"]
    caseworker.goto(f"{server.base}/ui/registrer/move-in?citizen_ref={resident}")
    caseworker.select_option("select[name=facility]", "GRE-HAVEN")
    caseworker.select_option("select[name=paying_municipality]", "751")
    caseworker.fill('input[name="assessment.hours_per_day"]', "5,5")
    caseworker.click("button[value=gem]")
    assert error_beside(caseworker, "effective_date").startswith("Borgeren bor allerede på et tilbud")
    assert caseworker.input_value("select[name=paying_municipality]") == "751"
    assert "Aarhus Kommune (751)" in caseworker.inner_text("select[name=paying_municipality]")
    caseworker.context.close()
    assert api(server, "/v1/facilities/GRE-KYSTEN") == places
    assert api(server, f"/v1/citizens/{resident}")["events"] == events


def open_stay_citizen(server: DemoServer) -> str:
    """A citizen of the demo who lives at a facility now."""
    for number in range(1, 200):
        ref = f"BOR-{number:04d}"
        response = httpx.get(f"{server.base}/v1/citizens/{ref}",
                             headers={"Authorization": f"Bearer {server.tokens['admin']}"})
        if response.status_code == 200 and any(s["move_out"] is None for s in response.json()["stays"]):
            return ref
    raise AssertionError("the demo has no citizen living at a facility")


def test_a_case_worker_moves_a_citizen_in_once_though_the_form_is_sent_twice_then_out_and_retracts(browser, server):
    page = session(browser, server, "caseworker")
    page.goto(f"{server.base}/ui/registrer")
    page.click("#hours-move-in")  # the døgnskema's own form is tests/e2e/test_doegnskema_browser.py's
    page.fill("input[name=citizen_ref]", "NY-0001")
    page.select_option("select[name=facility]", "GRE-HAVEN")
    page.fill("input[name=effective_date]", "2026-11-02")
    page.select_option("select[name=paying_municipality]", "707")
    page.fill('input[name="assessment.hours_per_day"]', "6,25")
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.click("button[value=gem]")
    assert page.locator("#recorded").count() == 1
    page.reload()  # the browser sends the same form again
    assert posts == [f"{server.base}/ui/registrer/move-in"] * 2
    assert "allerede sendt" in page.inner_text("#replayed")
    citizen = api(server, "/v1/citizens/NY-0001")
    assert [e["type"] for e in citizen["events"]] == ["CitizenMovedIn"]
    assert citizen["stays"][0]["periods"][0]["hours_per_day"] == "6.25"
    page.click("text=Borger NY-0001")
    page.click("#citizen-actions >> text=Udflytning")
    page.fill("input[name=effective_date]", "2026-11-30")
    page.select_option("select[name=kind]", "moved")
    page.click("button[value=gem]")
    assert page.inner_text("h1") == "Registreret: Udflytning"
    sent_again_records_nothing(page, server.base)
    page.click("text=Borger NY-0001")
    page.locator("#events tr", has_text="Fraflytning").locator("text=Tilbagekald").click()
    assert "Fraflytning" in page.inner_text("#retraction-target")
    page.click("button[value=gem]")
    assert error_beside(page, "reason") == "Skal udfyldes."
    page.fill("textarea[name=reason]", "Forkert dato")
    page.click("button[value=gem]")
    assert page.inner_text("h1") == "Registreret: Tilbagekald hændelse"
    sent_again_records_nothing(page, server.base)
    stays = api(server, "/v1/citizens/NY-0001")["stays"]
    assert stays[0]["move_out"] is None
    page.context.close()


def test_a_role_that_may_not_send_a_form_has_no_link_to_it_and_is_refused_it(browser, server):
    caseworker = session(browser, server, "caseworker")
    caseworker.goto(f"{server.base}/ui/registrer")
    assert caseworker.locator("text=Rammebudget").count() == 0
    caseworker.goto(f"{server.base}/ui/registrer/frame-budget")
    assert "Din rolle (sagsbehandler) giver ikke adgang" in caseworker.inner_text("main")
    caseworker.goto(f"{server.base}/ui/tilbud/GRE-STJERNEN?year=2026")
    assert caseworker.locator("#facility-events a.retract").count() == 0
    caseworker.context.close()
    auditor = session(browser, server, "auditor")
    assert auditor.locator("nav.main-nav >> text=Registrér").count() == 0
    auditor.goto(f"{server.base}/ui/borger/{open_stay_citizen(server)}")
    assert auditor.locator("a.retract").count() == 0 and auditor.locator("#citizen-actions").count() == 0
    auditor.context.close()


FILLED = {  # the forms no other browser test sends: what a user types into each, by field name
    "register-facility": ("finance", {"code": "NYT-BO", "name": "Nyt Bo", "kind": "bofaellesskab", "area": "Auning",
                                      "places": "6"}),
    "capacity": ("finance", {"code": "NYT-BO", "places": "7", "effective_date": "2026-12-01",
                             "reason": "Ombygning"}),
    "baseline": ("finance", {"code": "GRE-HAVEN", "year": "2026", "baseline_budget": "3.500.000",
                             "phase_in_pct": "50"}),
    "revision": ("finance", {"year": "2026", "level": "3", "daily_rate": "2.222,22", "effective_date": "2026-12-01",
                             "reason": "Takstregulering"}),
    "special-tariff": ("caseworker", {"code": "S2", "daily_rate": "4.000", "reason": "Særlige behov",
                                      "effective_date": "2026-12-01"}),
    "paying-municipality": ("caseworker", {"paying_municipality": "101", "effective_date": "2026-12-15"}),
}


def test_every_other_form_is_sent_from_the_browser_and_read_back_by_the_api(browser, server):
    resident = open_stay_citizen(server)
    pages = {role: session(browser, server, role) for role in ("finance", "caseworker")}
    for name, (role, values) in FILLED.items():
        page = pages[role]
        page.goto(f"{server.base}/ui/registrer/{name}" + (f"?citizen_ref={resident}" if role == "caseworker" else ""))
        type_into(page, values)
        page.click("button[value=gem]")
        assert page.inner_text("h1").startswith("Registreret: "), (name, page.inner_text("main")[:500])
        sent_again_records_nothing(page, server.base)
    for page in pages.values():
        page.context.close()
    facility = api(server, "/v1/facilities/NYT-BO")
    assert (facility["name"], facility["kind"], facility["places"]) == ("Nyt Bo", "bofaellesskab", 7)  # from 1 Dec
    assert api(server, "/v1/tariff-schedules/2026?on=2026-12-01")["levels"][2]["daily_rate"] == "2222.22"
    periods = api(server, f"/v1/citizens/{resident}")["stays"][-1]["periods"]
    assert (periods[-2]["special_tariff"], periods[-2]["from"]) == ("S2", "2026-12-01")
    assert (periods[-1]["paying_municipality"], periods[-1]["from"]) == ("101", "2026-12-15")
    trail = api(server, "/v1/audit?facility=GRE-HAVEN", "finance")["events"]
    assert "BaselineSet" in {event["type"] for event in trail}
    changed = api(server, "/v1/audit?facility=NYT-BO", "finance")["events"]
    assert "CapacityChanged" in {event["type"] for event in changed}


ROLE_NAMES = {"finance": "økonomi", "caseworker": "sagsbehandler", "auditor": "revisor", "buyer": "køberkommune"}


def test_every_form_is_refused_to_each_role_that_may_not_send_it(browser, server):
    for role in ("finance", "caseworker", "auditor", "buyer"):
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.base}/ui/login")
        page.fill("input[name=token]", server.tokens[role])
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.base}/ui/koeber" if role == "buyer" else f"{server.base}/ui")
        refused = [name for name, command in COMMANDS.items() if role not in command.spec.roles]
        assert refused, role
        for name in refused:
            answer = page.goto(f"{server.base}/ui/registrer/{name}")
            assert answer is not None and answer.status == 403, (role, name)
            assert page.locator("#command-form").count() == 0, (role, name)
            assert f"Din rolle ({ROLE_NAMES[role]}) giver ikke adgang" in page.inner_text("main"), (role, name)
        context.close()


def test_a_retraction_by_a_role_that_may_not_retract_the_event_is_refused_beside_it(browser, server):
    finance = session(browser, server, "finance")
    position = httpx.get(server.base + "/health").json()["position"]
    citizen_event = api(server, f"/v1/citizens/{open_stay_citizen(server)}")["events"][0]["event_id"]
    finance.goto(f"{server.base}/ui/registrer/retraction?event_id={citizen_event}")
    finance.fill("textarea[name=reason]", "Fejl")
    finance.click("button[value=gem]")
    assert error_beside(finance, "event_id").startswith("Din rolle må ikke tilbagekalde denne hændelse")
    assert finance.input_value("textarea[name=reason]") == "Fejl"
    assert httpx.get(server.base + "/health").json()["position"] == position
    finance.context.close()


def test_a_form_sent_again_after_going_back_records_once(browser, server):
    """Back after "Gem" fetches the form anew (no-store) with a fresh key while Chromium restores
    what was typed: "Gem" again records nothing and says when it was saved, beside the form;
    "Registrer igen" records it once more; Back then Gem once more records nothing again
    (docs/adr/0044)."""
    finance = session(browser, server, "finance")
    finance.goto(f"{server.base}/ui/registrer/capacity?code=GRE-KYSTEN")
    finance.fill("input[name=places]", "30")
    finance.fill("input[name=effective_date]", "2026-12-20")
    finance.click("button[value=gem]")
    assert finance.inner_text("h1") == "Registreret: Ændr antal pladser"
    position = httpx.get(server.base + "/health").json()["position"]
    finance.go_back()  # the form as the user filled it in
    assert finance.input_value("input[name=places]") == "30"
    finance.click("button[value=gem]")
    recorded_again = httpx.get(server.base + "/health").json()["position"]
    assert recorded_again == position
    notice = finance.inner_text("#already-recorded")
    assert "Denne registrering er allerede gemt i denne session kl. " in notice and f"position {position}," in notice
    assert finance.input_value("input[name=places]") == "30"  # the form as it was sent
    finance.check("#register-again")
    finance.click("button[value=gem]")
    assert finance.inner_text("h1") == "Registreret: Ændr antal pladser"
    assert httpx.get(server.base + "/health").json()["position"] == position + 1
    finance.goto(f"{server.base}/ui/registrer/capacity?code=GRE-KYSTEN")  # a new form typed the same
    finance.fill("input[name=places]", "30")
    finance.fill("input[name=effective_date]", "2026-12-20")
    finance.click("button[value=gem]")
    assert f"position {position + 1}," in finance.inner_text("#already-recorded")
    finance.click("#already-recorded >> text=Hvorfor ændrede det sig?")
    assert "/ui/forklar?facility=GRE-KYSTEN" in finance.url and f"til={position + 1}" in finance.url
    assert finance.locator("h1").count() == 1
    finance.context.close()
    assert httpx.get(server.base + "/health").json()["position"] == position + 1


def position_of(server: DemoServer) -> int:
    return httpx.get(server.base + "/health", timeout=30).json()["position"]


def save(page: Any) -> int:
    """Click "Gem": the status the answer to the form's POST came with, its page loaded."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click("button[value=gem]")
    page.wait_for_load_state()
    return answer.value.status


def type_into(page: Any, values: dict[str, str]) -> None:
    """Type (or choose) each value into the form's field of that name."""
    for field, value in values.items():
        target = page.locator(f'#command-form [name="{field}"]')
        if target.evaluate("element => element.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)


def test_a_command_about_a_citizen_or_facility_that_does_not_exist_is_refused_beside_its_field(browser, server):
    position = position_of(server)
    caseworker = session(browser, server, "caseworker")
    caseworker.goto(f"{server.base}/ui/registrer/reassessment")
    caseworker.fill("input[name=citizen_ref]", "UKENDT-0001")
    caseworker.fill("input[name=effective_date]", "2026-11-15")
    caseworker.fill('input[name="assessment.hours_per_day"]', "7,5")
    assert save(caseworker) == 404
    assert error_beside(caseworker, "citizen_ref") == "Borgeren findes ikke i ledgeren."
    assert "Intet er registreret" in caseworker.inner_text("#form-problems")
    assert caseworker.input_value("input[name=citizen_ref]") == "UKENDT-0001"
    assert caseworker.input_value('input[name="assessment.hours_per_day"]') == "7,5"
    caseworker.goto(f"{server.base}/ui/registrer/move-out?citizen_ref=UKENDT-0002")
    caseworker.fill("input[name=effective_date]", "2026-11-30")
    caseworker.select_option("select[name=kind]", "deceased")
    assert save(caseworker) == 404
    assert error_beside(caseworker, "citizen_ref") == "Borgeren findes ikke i ledgeren."
    assert caseworker.input_value("select[name=kind]") == "deceased"
    assert caseworker.input_value("input[name=effective_date]") == "2026-11-30"
    caseworker.context.close()

    finance = session(browser, server, "finance")  # a link to a facility the ledger does not hold
    finance.goto(f"{server.base}/ui/registrer/frame-budget?code=UKENDT-BO&year=2028")
    assert finance.input_value("#command-form select[name=code]") == "UKENDT-BO"
    finance.fill("input[name=budgeted_places]", "10")
    finance.fill("input[name=planned_occupancy_pct]", "100")
    finance.fill('input[name="lines.0.amount"]', "1.500.000,00")
    assert save(finance) == 404
    assert error_beside(finance, "code") == "Tilbuddet findes ikke; opret det først."
    assert finance.input_value('input[name="lines.0.amount"]') == "1.500.000,00"
    assert finance.input_value("input[name=budgeted_places]") == "10"
    finance.context.close()
    assert position_of(server) == position
    for ref in ("UKENDT-0001", "UKENDT-0002"):
        response = httpx.get(f"{server.base}/v1/citizens/{ref}",
                             headers={"Authorization": f"Bearer {server.tokens['admin']}"})
        assert response.status_code == 404


def test_a_form_whose_key_was_used_for_other_values_is_refused_and_can_be_sent_anew(browser, server):
    """The form's hidden key set to that of a form already recorded with other values: the
    ledger refuses the key (nothing recorded), the form comes back as typed with a fresh key,
    and "Gem" then records it once."""
    finance = session(browser, server, "finance")
    finance.goto(f"{server.base}/ui/registrer/register-facility")
    used = finance.input_value("input[name=form_key]")
    type_into(finance, {"code": "NOEGLE-BO", "name": "Nøgle Bo", "kind": "bofaellesskab", "area": "Auning",
                        "places": "5"})
    assert save(finance) == 201
    position = position_of(server)
    finance.goto(f"{server.base}/ui/registrer/register-facility")
    type_into(finance, {"code": "NOEGLE-BO2", "name": "Nøgle Bo 2", "kind": "bofaellesskab", "area": "Auning",
                        "places": "6"})
    finance.evaluate("key => { document.querySelector('#command-form input[name=form_key]').value = key; }", used)
    assert save(finance) == 409
    assert "Denne formular er allerede sendt med andre værdier" in finance.inner_text("#form-problems")
    assert finance.input_value('#command-form [name="code"]') == "NOEGLE-BO2"
    assert finance.input_value('#command-form [name="places"]') == "6"
    fresh = finance.input_value("input[name=form_key]")
    assert fresh != used and len(fresh) == 32
    assert position_of(server) == position
    assert httpx.get(f"{server.base}/v1/facilities/NOEGLE-BO2",
                     headers={"Authorization": f"Bearer {server.tokens['admin']}"}).status_code == 404
    assert save(finance) == 201
    assert position_of(server) == position + 1
    assert api(server, "/v1/facilities/NOEGLE-BO2")["places"] == 6
    assert api(server, "/v1/facilities/NOEGLE-BO")["places"] == 5
    finance.context.close()


def fill_capacity(page: Any, server: DemoServer, places: str, day: str, reason: str) -> None:
    """Open GRE-STJERNEN's capacity form and type a change of places, not yet sent."""
    page.goto(f"{server.base}/ui/registrer/capacity?code=GRE-STJERNEN")
    page.fill("input[name=places]", places)
    page.fill("input[name=effective_date]", day)
    page.fill("textarea[name=reason]", reason)


def test_a_form_without_its_key_is_refused_and_comes_back_as_typed_with_a_new_key(browser, server):
    position = position_of(server)
    finance = session(browser, server, "finance")
    fill_capacity(finance, server, "12", "2026-12-28", "Flere pladser")
    finance.evaluate("() => document.querySelector('#command-form input[name=form_key]').remove()")
    assert save(finance) == 422
    assert "Formularen manglede sin nøgle" in finance.inner_text("#form-problems")
    assert finance.input_value("input[name=places]") == "12"
    assert finance.input_value("textarea[name=reason]") == "Flere pladser"
    assert finance.input_value("#command-form select[name=code]") == "GRE-STJERNEN"
    assert len(finance.input_value("input[name=form_key]")) == 32  # a new key to send it with
    finance.context.close()
    assert position_of(server) == position


def test_a_form_with_a_wrong_csrf_token_is_refused_in_danish_and_back_keeps_what_was_typed(browser, server):
    """The refusal is a page of its own (the form is not drawn again from a request that failed
    the check); it says to go back, and Back shows the form as typed, with a good token, so that
    "Gem" then records it once."""
    position = position_of(server)
    finance = session(browser, server, "finance")
    fill_capacity(finance, server, "14", "2026-12-29", "Ombygning")
    finance.evaluate("() => { document.querySelector('#command-form [name=csrf_token]').value = '0'.repeat(64); }")
    assert save(finance) == 403
    assert "Formularen blev afvist" in finance.inner_text("main")
    assert "Gå tilbage" in finance.inner_text("main")
    assert position_of(server) == position
    finance.go_back()
    assert finance.input_value("input[name=places]") == "14"
    assert finance.input_value("input[name=effective_date]") == "2026-12-29"
    assert finance.input_value("textarea[name=reason]") == "Ombygning"
    assert position_of(server) == position
    assert save(finance) == 201  # the form drawn anew carries the session's token
    assert position_of(server) == position + 1
    finance.context.close()
