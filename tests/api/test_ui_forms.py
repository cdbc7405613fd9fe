"""The web UI's forms for every command (issue 22.1), on both stores, as a browser sends them
(session cookie, CSRF token, the UI's origin): each form is drawn from the command's
declaration and offered only to the roles it names; a posted form records exactly what the API
records for the same values; a refusal (a declared bound, a domain rule) comes back in Danish
beside its input with what was typed and nothing recorded; a form sent twice records once;
after a command the page shows its events and links to what they changed; the same command
sent again by the form rendered anew (Back) records nothing unless "Registrer igen" is ticked.
The browser test is tests/e2e/test_forms_browser.py."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.commands.declarations import COMMANDS
from service.ledger import Timeline
from service.ui.recent_forms import COOKIE as RECENT_FORMS
from tests.api.ui_session import ORIGIN, form_token, log_in, session_header, set_cookies
from tests.conftest import Api
from tests.factories import facility_body, frame_body, move_in_body, schedule_body

_KEY = re.compile(r'name="form_key" value="([0-9a-f]{32})"')
_ERROR = re.compile(r'<span class="field-error" id="[^"]*" data-field="([^"]+)">([^<]*)</span>')


class Forms:
    """A browser's session per role, posting the UI's forms as the browser does, and keeping
    the cookie of its recent forms as the browser does."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens, self.sessions, self.kept = client, tokens, {}, {}

    def headers(self, role: str) -> dict[str, str]:
        if role not in self.sessions:
            self.sessions[role] = log_in(self.client, self.tokens[role])
        kept = self.kept.get(role)
        cookie = session_header(self.sessions[role])["Cookie"] + (f"; {RECENT_FORMS}={kept}" if kept else "")
        return {"Cookie": cookie}

    def keep(self, role: str, response):  # type: ignore[no-untyped-def]
        """The response, its cookie of recent forms kept for the role's next requests."""
        if RECENT_FORMS in (found := set_cookies(response)):
            self.kept[role] = found[RECENT_FORMS][RECENT_FORMS].value
        return response

    def open(self, path: str, role: str):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers=self.headers(role), follow_redirects=False)

    def send(self, name: str, values: dict[str, str], role: str, page: Any = None, query: str = "",
             action: str = "gem"):  # type: ignore[no-untyped-def]
        """The form as opened (or the given page of it) sent with `values` filled in."""
        page = page or self.open(f"/ui/registrer/{name}{query}", role)
        assert page.status_code == 200, page.text
        data = {**filled(page.text), **values, "csrf_token": form_token(page.text), "handling": action}
        return self.keep(role, self.client.post(f"/ui/registrer/{name}", data=data,
                                                headers={**self.headers(role), "Origin": ORIGIN},
                                                follow_redirects=False))


def filled(text: str) -> dict[str, str]:
    """What a browser sends of a page's form as it stands: its inputs' values and selected options."""
    form = text[text.index('id="command-form"'):]
    inputs = re.finditer(r'<input([^>]*) name="([^"]+)" value="([^"]*)"([^>]*)>', form)
    values = {m.group(2): html.unescape(m.group(3)) for m in inputs
              if 'type="checkbox"' not in m.group(1) or " checked" in m.group(4)}  # a box not ticked is not sent
    for select in re.finditer(r'<select[^>]* name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', select.group(2))
        values[select.group(1)] = html.unescape(chosen.group(1)) if chosen else ""
    for area in re.finditer(r'<textarea[^>]* name="([^"]+)"[^>]*>([^<]*)</textarea>', form):
        values[area.group(1)] = html.unescape(area.group(2))
    return values


def errors(text: str) -> dict[str, str]:
    return {name: html.unescape(message) for name, message in _ERROR.findall(text)}


@pytest.fixture
def world(settings, ledger, tokens):  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings, ledger), raise_server_exceptions=False) as client:
        api = Api(client, tokens)
        assert api.post("/v1/facilities", facility_body("GRENAA-BO")).status_code == 201
        assert api.put("/v1/tariff-schedules/2026", schedule_body()).status_code == 201
        assert api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body()).status_code == 201
        yield api, Forms(client, tokens), ledger


def positions(ledger) -> int:  # type: ignore[no-untyped-def]
    return Timeline(ledger.engine).max_position()


def test_each_role_is_offered_exactly_the_forms_it_may_send_and_refused_the_others(world):
    api, forms, _ = world
    for role in ("finance", "caseworker", "admin", "auditor"):
        index = forms.open("/ui/registrer", role)
        if role == "auditor":
            assert index.status_code == 403 and "Din rolle (revisor)" in index.text
            assert 'href="/ui/registrer"' not in forms.open("/ui/oversigt", role).text
            continue
        assert index.status_code == 200
        for name, command in COMMANDS.items():
            allowed = role == "admin" or role in command.spec.roles
            if name != "retraction":
                assert (f'href="/ui/registrer/{name}"' in index.text) is allowed, (role, name)
            page = forms.open(f"/ui/registrer/{name}", role)
            assert page.status_code == (200 if allowed else 403), (role, name, page.status_code)
            if allowed:
                assert f"<h1>{command.spec.label}</h1>" in page.text and _KEY.search(page.text)
    ledger, before = world[2], positions(world[2])
    values = filled(forms.open("/ui/registrer/capacity?code=GRENAA-BO", "finance").text) | {"places": "12"}
    token = form_token(forms.open("/ui/registrer", "caseworker").text)
    refused = forms.client.post("/ui/registrer/capacity", data={**values, "csrf_token": token, "handling": "gem"},
                                headers={**forms.headers("caseworker"), "Origin": ORIGIN})
    assert refused.status_code == 403 and positions(ledger) == before
    forged = forms.client.post("/ui/registrer/capacity", data={**values, "csrf_token": "0" * 64, "handling": "gem"},
                               headers={**forms.headers("finance"), "Origin": ORIGIN})
    assert forged.status_code == 403 and "Formularen blev afvist" in forged.text and positions(ledger) == before


def test_a_posted_form_records_what_the_api_records_and_links_to_what_changed(world):
    api, forms, ledger = world
    done = forms.send("frame-budget", {"year": "2027", "budgeted_places": "8", "planned_occupancy_pct": "95",
                                       "lines.0.amount": "1.200.000,50", "lines.3.amount": "650000",
                                       "reason": "Budget 2027"}, "finance", query="?code=GRENAA-BO&year=2027")
    assert done.status_code == 201, errors(done.text)
    frame = api.get("/v1/facilities/GRENAA-BO/frame-budgets/2027").json()
    assert frame["lines"] == [{"category": "ledelse_administration", "amount": "1200000.50"},
                              {"category": "nattevagt", "amount": "650000.00"}]
    assert frame["planned_occupancy_pct"] == "95.00" and frame["budgeted_places"] == 8
    assert "Rammebudget fastsat" in done.text and "Budget 2027" in done.text
    position = positions(ledger)
    links = [html.unescape(h) for h in re.findall(r'<a class="button[^"]*" href="([^"]+)"', done.text)]
    assert "/ui/tilbud/GRENAA-BO?year=2027" in links
    explain = next(link for link in links if link.startswith("/ui/forklar"))
    assert f"fra={position - 1}" in explain and f"til={position}" in explain
    page = forms.open(explain, "finance")
    assert page.status_code == 200 and "Rammebudget fastsat" in page.text
    # the explanation is the API's for the same positions
    body = api.get(f"/v1/budgets/GRENAA-BO/2027/all/explain?from_position={position - 1}&to_position={position}").json()
    assert len(body["changes"]) == 1 and body["changes"][0]["type"] == "FrameBudgetSet"


def test_the_frame_budget_shows_its_total_and_basistakst_before_saving(world):
    _, forms, ledger = world
    before = positions(ledger)
    shown = forms.send("frame-budget", {"year": "2026", "budgeted_places": "10", "planned_occupancy_pct": "100",
                                        "lines.4.amount": "365.000,00"}, "finance", query="?code=GRENAA-BO",
                       action="beregn")
    assert shown.status_code == 200 and positions(ledger) == before
    # the year's frame (3.650.000) prefilled, plus the line typed: 4.015.000 / (10 × 365) = 1.100,00
    assert re.search(r'id="frame-total">4\.015\.000,00 kr\.', shown.text)
    assert re.search(r'id="frame-basistakst">1\.100,00 kr\. pr\. døgn', shown.text)
    assert 'value="365.000,00"' in shown.text


def test_refusals_are_danish_beside_their_field_keep_the_input_and_record_nothing(world):
    api, forms, ledger = world
    assert api.post("/v1/citizens/A/move-in", move_in_body("GRENAA-BO"), role="caseworker").status_code == 201
    before = positions(ledger)
    bad = forms.send("capacity", {"code": "GRENAA-BO", "places": "0", "effective_date": "2026-13-01",
                                  "reason": "Flere pladser"}, "finance")
    assert bad.status_code == 422
    assert errors(bad.text) == {"places": "Skal være mindst 1.", "effective_date": "Skriv en dato som ÅÅÅÅ-MM-DD."}
    assert "Intet er registreret" in bad.text and ">Flere pladser</textarea>" in bad.text
    amount = forms.send("accounts", {"code": "GRENAA-BO", "year": "2026", "actual_costs": "12,345"}, "finance")
    assert errors(amount.text) == {"actual_costs": "Skriv et beløb i kroner med højst to decimaler, fx 1.234,50."}
    assert "post-closing" in amount.text and 'value="12,345"' in amount.text
    taken = forms.send("move-in", {"citizen_ref": "a", "facility": "GRENAA-BO", "paying_municipality": "751",
                                   "assessment.hours_per_day": "5,5", "effective_date": "2026-04-01"}, "caseworker")
    assert taken.status_code == 409
    assert errors(taken.text) == {"effective_date": "Borgeren bor allerede på et tilbud. Registrér fraflytningen "
                                                    "først, eller brug revurdering."}
    assert '<option value="751" selected>Aarhus Kommune (751)</option>' in taken.text
    hours = forms.send("reassessment", {"citizen_ref": "A", "assessment.hours_per_day": "25"}, "caseworker")
    assert errors(hours.text) == {"assessment.hours_per_day": "Skal være fra 0 til 24."}
    special = forms.send("special-tariff", {"citizen_ref": "A", "code": "S1", "daily_rate": "3000"}, "caseworker")
    assert errors(special.text) == {"reason": "Skal udfyldes."}
    assert positions(ledger) == before


def test_a_form_sent_twice_records_once(world):
    api, forms, ledger = world
    page = forms.open("/ui/registrer/move-in?citizen_ref=B", "caseworker")
    values = {"facility": "GRENAA-BO", "paying_municipality": "707", "assessment.hours_per_day": "4,5",
              "effective_date": "2026-03-10", "special_tariff.code": "S1", "special_tariff.daily_rate": "2500",
              "reason": "Særlige behov"}
    first = forms.send("move-in", values, "caseworker", page=page)
    assert first.status_code == 201, errors(first.text)
    position = positions(ledger)
    again = forms.send("move-in", values, "caseworker", page=page)
    assert again.status_code == 200 and 'id="replayed"' in again.text and positions(ledger) == position
    shown = re.compile(r'<td class="num">(\d+)</td>')
    assert shown.findall(again.text) == shown.findall(first.text)
    citizen = api.get("/v1/citizens/B").json()
    assert [e["type"] for e in citizen["events"]] == ["CitizenMovedIn", "SpecialTariffGranted"]
    changed = forms.send("move-in", {**values, "paying_municipality": "751"}, "caseworker", page=page)
    assert changed.status_code == 409 and "allerede sendt med andre værdier" in changed.text
    assert positions(ledger) == position


def test_the_schedule_form_is_prefilled_from_the_year_before_and_publishes_it(world):
    api, forms, _ = world
    page = forms.open("/ui/registrer/tariff-schedule?year=2027", "finance")
    assert "Udfyldt med takstbladet for 2026" in page.text
    done = forms.send("tariff-schedule", {"levels.7.daily_rate": "9999,50"}, "finance", page=page)
    assert done.status_code == 201, errors(done.text)
    published, earlier = api.get("/v1/tariff-schedules/2027").json(), api.get("/v1/tariff-schedules/2026").json()
    assert published["levels"][:7] == earlier["levels"][:7] and published["levels"][7]["published_rate"] == "9999.50"
    assert published["special_tariffs"] == earlier["special_tariffs"]
    assert "/ui/oversigt?year=2027" in done.text


def test_an_event_is_retracted_from_its_row_with_a_reason_by_the_role_that_may(world):
    api, forms, ledger = world
    assert api.post("/v1/citizens/C/move-in", move_in_body("GRENAA-BO"), role="caseworker").status_code == 201
    wrong = api.post("/v1/citizens/C/reassessments", {"effective_date": "2026-05-01",
                                                       "assessment": {"hours_per_day": "9.5"}}, role="caseworker")
    event_id = wrong.json()["event_id"]
    citizen_page = forms.open("/ui/borger/C", "caseworker").text
    link = f'/ui/registrer/retraction?event_id={event_id}'
    assert link in citizen_page and citizen_page.count("/ui/registrer/retraction?") == 2  # move-in and reassessment
    assert "/ui/registrer/retraction?" not in forms.open("/ui/borger/C", "finance").text
    facility_page = forms.open("/ui/tilbud/GRENAA-BO?year=2026", "finance").text
    assert "Rammebudget fastsat" in facility_page and facility_page.count("/ui/registrer/retraction?") == 1
    assert "/ui/registrer/retraction?" not in forms.open("/ui/tilbud/GRENAA-BO?year=2026", "caseworker").text
    events_page = forms.open("/ui/haendelser", "finance").text  # finance: the facility's and the schedule's events
    assert events_page.count("/ui/registrer/retraction?") == 2 and link not in events_page
    assert "/ui/registrer/retraction?" not in forms.open("/ui/haendelser", "auditor").text
    before = positions(ledger)
    by_finance = forms.send("retraction", {"reason": "Fejl"}, "finance", query=f"?event_id={event_id}")
    assert by_finance.status_code == 403 and "Din rolle må ikke tilbagekalde" in by_finance.text
    no_reason = forms.send("retraction", {}, "caseworker", query=f"?event_id={event_id}")
    assert errors(no_reason.text) == {"reason": "Skal udfyldes."} and "Revurdering" in no_reason.text
    assert positions(ledger) == before
    done = forms.send("retraction", {"reason": "Forkert døgnskema"}, "caseworker", query=f"?event_id={event_id}")
    assert done.status_code == 201, errors(done.text)
    assert "Tilbagekalder «Revurdering»" in done.text and "/ui/borger/C" in done.text
    events = {e["event_id"]: e for e in api.get("/v1/citizens/C").json()["events"]}
    assert events[event_id]["retracted"]["reason"] == "Forkert døgnskema"


def test_the_citizen_and_facility_pages_link_to_the_forms_their_role_may_send(world):
    api, forms, _ = world
    assert api.post("/v1/citizens/D/move-in", move_in_body("GRENAA-BO"), role="caseworker").status_code == 201
    citizen = forms.open("/ui/borger/D", "caseworker").text
    for name in ("special-tariff", "paying-municipality", "move-out"):
        assert f"/ui/registrer/{name}?citizen_ref=D" in citizen
    assert "/ui/revurdering?ref=D" in citizen  # the døgnskema's form
    assert "/ui/registrer/" not in forms.open("/ui/borger/D", "auditor").text
    facility = forms.open("/ui/tilbud/GRENAA-BO?year=2026", "finance").text
    for name in ("capacity", "frame-budget", "baseline", "accounts"):
        assert f"/ui/registrer/{name}?code=GRENAA-BO" in facility
    moved_out = forms.send("move-out", {"kind": "moved", "effective_date": "2026-06-30"}, "caseworker",
                           query="?citizen_ref=D")
    assert moved_out.status_code == 201, errors(moved_out.text)
    assert api.get("/v1/citizens/D").json()["stays"][0]["move_out"] == "2026-06-30"


def test_every_other_form_records_its_command_as_the_api_reads_it(world):
    api, forms, _ = world
    assert api.post("/v1/citizens/E/move-in", move_in_body("GRENAA-BO"), role="caseworker").status_code == 201
    sent = {
        "register-facility": ({"code": "ny-bo", "name": "Nyt Bo", "kind": "bofaellesskab", "area": "Auning",
                               "places": "6"}, "finance"),
        "capacity": ({"code": "GRENAA-BO", "places": "12", "effective_date": "2026-09-01"}, "finance"),
        "baseline": ({"code": "GRENAA-BO", "year": "2026", "baseline_budget": "3.500.000", "phase_in_pct": "50"},
                     "finance"),
        "revision": ({"year": "2026", "level": "3", "daily_rate": "2.222,22", "effective_date": "2026-07-01"},
                     "finance"),
        "reassessment": ({"citizen_ref": "E", "assessment.hours_per_day": "7,5", "effective_date": "2026-05-01"},
                         "caseworker"),
        "special-tariff": ({"citizen_ref": "E", "code": "S2", "daily_rate": "4000", "reason": "Særlige behov",
                            "effective_date": "2026-06-01"}, "caseworker"),
        "paying-municipality": ({"citizen_ref": "E", "paying_municipality": "101", "effective_date": "2026-08-01"},
                                "caseworker"),
        "accounts": ({"code": "GRENAA-BO", "year": "2026", "actual_costs": "3.600.000,00", "reason": "Regnskab"},
                     "finance"),
    }
    for name, (values, role) in sent.items():
        done = forms.send(name, values, role)
        assert done.status_code == 201, (name, errors(done.text), re.findall(r'form-problem">([^<]*)', done.text))
        assert f"<h1>Registreret: {COMMANDS[name].spec.label}</h1>" in done.text
    facility = api.get("/v1/facilities/NY-BO").json()
    assert (facility["name"], facility["kind"], facility["places"]) == ("Nyt Bo", "bofaellesskab", 6)
    schedule = api.get("/v1/tariff-schedules/2026?on=2026-07-01").json()
    assert schedule["levels"][2]["daily_rate"] == "2222.22"
    periods = api.get("/v1/citizens/E").json()["stays"][0]["periods"]
    assert [(p["from"], p["hours_per_day"], p["special_tariff"], p["paying_municipality"]) for p in periods][-3:] == [
        ("2026-05-01", "7.50", None, "707"), ("2026-06-01", "7.50", "S2", "707"), ("2026-08-01", "7.50", "S2", "101")]
    trail = api.get("/v1/audit?facility=GRENAA-BO", role="finance").json()["events"]
    assert {"CapacityChanged", "BaselineSet", "AnnualAccountsRecorded"} <= {e["type"] for e in trail}


def test_a_form_without_its_key_or_naming_what_does_not_exist_is_refused_in_danish_and_records_nothing(world):
    """The kinds of refusal the other tests do not send: a form that lost its key (422, the
    values kept so it can be sent again with a fresh key) and a command about a citizen or a
    facility the ledger does not hold (404, the message in Danish beside its field)."""
    _, forms, ledger = world
    before = positions(ledger)
    page = forms.open("/ui/registrer/capacity?code=GRENAA-BO", "finance")
    keyless = {**filled(page.text), "places": "12", "effective_date": "2026-09-01", "reason": "Flere pladser",
               "csrf_token": form_token(page.text), "handling": "gem"}
    del keyless["form_key"]
    lost = forms.client.post("/ui/registrer/capacity", data=keyless,
                             headers={**forms.headers("finance"), "Origin": ORIGIN}, follow_redirects=False)
    assert lost.status_code == 422 and "Formularen manglede sin nøgle" in lost.text
    assert ">Flere pladser</textarea>" in lost.text and _KEY.search(lost.text)  # a new key to send it with
    assert positions(ledger) == before
    nobody = forms.send("move-out", {"citizen_ref": "NOBODY", "kind": "moved", "effective_date": "2026-06-30"},
                        "caseworker")
    assert nobody.status_code == 404 and errors(nobody.text) == {"citizen_ref": "Borgeren findes ikke i ledgeren."}
    unknown = forms.send("capacity", {"code": "NO-SUCH", "places": "12", "effective_date": "2026-09-01",
                                      "reason": "Flere pladser"}, "finance")
    assert unknown.status_code == 404 and errors(unknown.text) == {"code": "Tilbuddet findes ikke; opret det først."}
    assert positions(ledger) == before


_AGAIN = re.compile(r'<input type="checkbox" id="register-again" name="gentag" value="([^"]+)">')


def test_a_form_rendered_anew_with_what_the_session_just_saved_records_nothing_unless_registrer_igen(world):
    """Back after "Gem" fetches the form anew (no-store) with a fresh key while the browser
    restores what was typed: the same command is not recorded again. The page says when it was
    saved and links to it; "Registrer igen" (naming exactly that recording) records it once more.
    Another session, other values, and the API are not bound by the rule (docs/adr/0044)."""
    api, forms, ledger = world
    values = {"code": "GRENAA-BO", "places": "12", "effective_date": "2026-09-01", "reason": "Ombygning"}
    first = forms.send("capacity", values, "finance")
    assert first.status_code == 201, errors(first.text)
    position = positions(ledger)
    first_event = api.get("/v1/audit?facility=GRENAA-BO", role="finance").json()["events"][-1]
    assert first_event["type"] == "CapacityChanged" and first_event["position"] == position

    back = forms.send("capacity", values, "finance")  # the form rendered anew, typed the same
    assert back.status_code == 409 and positions(ledger) == position
    notice = back.text[back.text.index('id="already-recorded"'):]
    assert re.search(r"Denne registrering er allerede gemt i denne session kl\. \d\d:\d\d\.", notice)
    assert f"position {position}," in notice
    explain = html.unescape(re.search(r'<a href="(/ui/forklar[^"]+)">Hvorfor ændrede det sig\?</a>', notice).group(1))
    assert f"fra={position - 1}" in explain and f"til={position}" in explain
    assert forms.open(explain, "finance").status_code == 200
    assert _AGAIN.search(back.text).group(1) == first_event["event_id"]
    assert ">Ombygning</textarea>" in back.text  # what was typed is kept
    assert 'id="recorded"' not in back.text

    def post(page, extra):  # type: ignore[no-untyped-def]
        data = {**filled(page.text), **extra, "csrf_token": form_token(page.text), "handling": "gem"}
        return forms.keep("finance", forms.client.post("/ui/registrer/capacity", data=data, follow_redirects=False,
                                                       headers={**forms.headers("finance"), "Origin": ORIGIN}))

    assert post(back, {"gentag": "not-this-one"}).status_code == 409 and positions(ledger) == position
    beregn = post(back, {"handling": "beregn"})
    assert beregn.status_code in (200, 409) and positions(ledger) == position

    again = post(back, {"gentag": _AGAIN.search(back.text).group(1)})  # "Registrer igen" ticked
    assert again.status_code == 201 and positions(ledger) == position + 1
    reloaded = post(back, {"gentag": _AGAIN.search(back.text).group(1)})  # that answer reloaded
    assert reloaded.status_code == 200 and 'id="replayed"' in reloaded.text and positions(ledger) == position + 1

    third = forms.send("capacity", values, "finance")  # Back once more: the newer recording is named
    assert third.status_code == 409 and f"position {position + 1}," in third.text
    assert _AGAIN.search(third.text).group(1) != first_event["event_id"]
    stale = post(third, {"gentag": first_event["event_id"]})  # a tick restored for the older recording
    assert stale.status_code == 409 and positions(ledger) == position + 1

    other = forms.send("capacity", {**values, "places": "13"}, "finance")
    assert other.status_code == 201 and positions(ledger) == position + 2
    assert RECENT_FORMS in forms.headers("finance")["Cookie"]
    forms.sessions["finance"] = log_in(forms.client, forms.tokens["finance"])  # another session, the same browser
    assert forms.send("capacity", values, "finance").status_code == 201 and positions(ledger) == position + 3
    assert forms.send("capacity", values, "finance").status_code == 409  # and that session's own rule
    body = {"places": 12, "effective_date": "2026-09-01", "reason": "Ombygning"}
    assert api.post("/v1/facilities/GRENAA-BO/capacity", body, role="finance").status_code == 201
    assert api.post("/v1/facilities/GRENAA-BO/capacity", body, role="finance").status_code == 201
    assert positions(ledger) == position + 5


def test_a_form_of_every_kind_sent_again_anew_records_once(world):
    """The rule holds for each generic form: sent, then sent again from a new rendering."""
    api, forms, ledger = world
    assert api.post("/v1/citizens/F/move-in", move_in_body("GRENAA-BO"), role="caseworker").status_code == 201
    sent = {
        "register-facility": ({"code": "to-bo", "name": "To Bo", "kind": "bofaellesskab", "area": "Auning",
                               "places": "4"}, "finance"),
        "baseline": ({"code": "GRENAA-BO", "year": "2026", "baseline_budget": "3.500.000", "phase_in_pct": "50"},
                     "finance"),
        "special-tariff": ({"citizen_ref": "F", "code": "S2", "daily_rate": "4000", "reason": "Særlige behov",
                            "effective_date": "2026-06-01"}, "caseworker"),
        "paying-municipality": ({"citizen_ref": "F", "paying_municipality": "101", "effective_date": "2026-08-01"},
                                "caseworker"),
    }
    for name, (values, role) in sent.items():
        assert forms.send(name, values, role).status_code == 201, name
        position = positions(ledger)
        again = forms.send(name, values, role)
        assert again.status_code == 409 and 'id="already-recorded"' in again.text, name
        assert positions(ledger) == position, name


def test_the_rule_lasts_its_window_and_a_mark_the_store_does_not_back_refuses_nothing(settings, ledger, tokens):
    """`LEDGER_UI_FORM_REPEAT_MINUTES` (here 1.2 s, real time) bounds the rule; the cookie only
    says where to look, so a forged mark (a key the store never recorded this command under)
    refuses nothing."""
    short = settings.model_copy(update={"ui_form_repeat_minutes": 0.02})
    with TestClient(create_app(short, ledger), raise_server_exceptions=False) as client:
        api, forms = Api(client, tokens), Forms(client, tokens)
        assert api.post("/v1/facilities", facility_body("GRENAA-BO")).status_code == 201
        values = {"code": "GRENAA-BO", "places": "12", "effective_date": "2026-09-01"}
        assert forms.send("capacity", values, "finance").status_code == 201
        assert forms.send("capacity", values, "finance").status_code == 409
        time.sleep(1.3)
        assert forms.send("capacity", values, "finance").status_code == 201
        tag, _, marks = forms.kept["finance"].partition(".")
        content = marks.split(":")[0]
        forms.kept["finance"] = f"{tag}.{content}:{'0' * 64}"  # the same command, a key never used
        before = positions(ledger)
        assert forms.send("capacity", values, "finance").status_code == 201 and positions(ledger) == before + 1
