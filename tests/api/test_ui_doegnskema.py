"""The døgnskema form and the citizen page's assessments, through the UI as a browser posts it,
on both stores: "Beregn" shows the ledger's own hours and level before anything is saved (and
asks for a special tariff at level 8+), the cells are refused in Danish one by one, a move-in
and a reassessment are recorded through the pages once however often the form is sent, only
by the roles that may send those commands, and the citizen page shows each assessment as its
table with what changed from the one before."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.commands.fields import Assessment
from service.ledger import Timeline
from service.queries.assessments import citizen_assessments, preview_assessment
from service.ui.doegnskema import SKEMA, SkemaErrors, cell_field, parse_assessment
from service.ui.recent_forms import COOKIE as RECENT_FORMS
from tests.api.ui_session import ORIGIN, form_token, log_in, session_header, set_cookies
from tests.conftest import Api
from tests.factories import døgnskema, facility_body, schedule_body

KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')


class Forms:
    """A browser holding a UI session per role, filling the døgnskema pages."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens, self.sessions, self.kept = client, tokens, {}, {}

    def headers(self, role: str) -> dict[str, str]:
        if role not in self.sessions:
            self.sessions[role] = log_in(self.client, self.tokens[role])
        kept = self.kept.get(role)
        cookie = session_header(self.sessions[role])["Cookie"] + (f"; {RECENT_FORMS}={kept}" if kept else "")
        return {"Cookie": cookie, "Origin": ORIGIN}

    def get(self, path: str, role: str = "caseworker"):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers=self.headers(role), follow_redirects=False)

    def open(self, path: str, role: str = "caseworker") -> dict[str, str]:
        """The form's hidden fields as rendered (its CSRF token and its idempotency key)."""
        page = self.get(path, role)
        assert page.status_code == 200, page.text[:500]
        return {"csrf_token": form_token(page.text), "idempotency_key": KEY.search(page.text).group(1)}

    def post(self, path: str, data: dict[str, str], role: str = "caseworker"):  # type: ignore[no-untyped-def]
        """The form posted; the cookie of recent forms kept as the browser keeps it."""
        response = self.client.post(path, data=data, headers=self.headers(role), follow_redirects=False)
        if RECENT_FORMS in (found := set_cookies(response)):
            self.kept[role] = found[RECENT_FORMS][RECENT_FORMS].value
        return response


def cells(**minutes: int | str) -> dict[str, str]:
    """Form cells from `theme__slot__kind=minutes`."""
    return {cell_field(*name.split("__")): str(value) for name, value in minutes.items()}


def shown(html: str, id_: str) -> str:
    found = re.search(rf'id="{id_}"[^>]*>([^<]*)<', html)
    assert found, f"no #{id_} on the page"
    return found.group(1).strip()


@pytest.fixture
def world(settings, ledger, tokens):  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings, ledger), raise_server_exceptions=False) as client:
        api = Api(client, tokens)
        assert api.post("/v1/facilities", facility_body("GRENAA-BO")).status_code == 201
        assert api.put("/v1/tariff-schedules/2026", schedule_body()).status_code == 201
        yield api, Forms(client, tokens), ledger


MOVE_IN = {"citizen_ref": "bor-0042", "facility": "GRENAA-BO", "paying_municipality": "751",
           "effective_date": "2026-03-01"}
FIVE_HOURS = cells(egenomsorg__morning__direct=120, mobilitet__evening__indirect=90, relationer__night__direct=90)
"""300 minutes: 5 hours, level 3 (4-6 hours) in the test schedule."""


def test_beregn_shows_the_ledgers_hours_and_level_before_saving_and_saving_records_the_same(world):
    api, forms, ledger = world
    assert '<option value="GRENAA-BO"' in forms.get("/ui/indflytning").text
    form = forms.open("/ui/indflytning")
    previewed = forms.post("/ui/indflytning", {**form, **MOVE_IN, **FIVE_HOURS, "handling": "beregn"})
    assert previewed.status_code == 200
    assert shown(previewed.text, "preview-hours") == "5,00" and shown(previewed.text, "preview-level") == "Niveau 3"
    assert "2.000,00 kr. pr. døgn" in previewed.text and 'id="special-tariff"' not in previewed.text
    assert api.get("/v1/citizens/BOR-0042").status_code == 404  # nothing saved by Beregn
    assert KEY.search(previewed.text).group(1) == form["idempotency_key"]  # the same form, the same key

    typed = preview_assessment(ledger, parse_assessment({**FIVE_HOURS}), date(2026, 3, 1))
    assert (typed.hours_per_day, typed.level, typed.needs_special_tariff) == (Decimal("5.00"), 3, False)
    assert typed.level_daily_rate == Decimal("2000.00") and typed.schedule_year == 2026

    saved = forms.post("/ui/indflytning", {**form, **MOVE_IN, **FIVE_HOURS, "handling": "gem"})
    assert saved.status_code == 200 and shown(saved.text, "recorded-hours") == "5,00"
    period = api.get("/v1/citizens/BOR-0042").json()["stays"][0]["periods"][0]
    assert (period["hours_per_day"], period["level"]) == (str(typed.hours_per_day), typed.level)
    recorded = api.get("/v1/citizens/BOR-0042").json()["events"][0]
    assert recorded["actor"] == "caseworker-tester" and recorded["details"]["assessment"]["entries"] == [
        {"theme": "egenomsorg", "slot": "morning", "kind": "direct", "minutes": 120},
        {"theme": "mobilitet", "slot": "evening", "kind": "indirect", "minutes": 90},
        {"theme": "relationer", "slot": "night", "kind": "direct", "minutes": 90}]
    # the answer shows the event and links to what it changed, as every form's answer does (issue 22.1)
    events = saved.text[saved.text.index('id="recorded-events"'):]
    assert "Indflytning" in events[:events.index("</table>")]
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', saved.text.split('class="after-links"')[1])]
    position = api.get("/health").json()["position"]
    assert "/ui/tilbud/GRENAA-BO?year=2026" in links
    explain = next(link for link in links if link.startswith("/ui/forklar"))
    assert f"fra={position - 1}" in explain and f"til={position}" in explain and "facility=GRENAA-BO" in explain


def test_level_8_asks_for_the_special_tariff_in_the_same_form_and_a_year_without_a_schedule_is_refused(world):
    api, forms, _ = world
    form = forms.open("/ui/indflytning")
    heavy = cells(egenomsorg__morning__direct=600, egenomsorg__daytime__direct=500)  # 18,33 hours: above level 8
    previewed = forms.post("/ui/indflytning", {**form, **MOVE_IN, **heavy, "handling": "beregn"})
    assert shown(previewed.text, "preview-level") == "Over niveau 8" and 'id="needs-special"' in previewed.text
    assert 'id="special-tariff"' in previewed.text and "S1 – Særtakst 1" in previewed.text

    refused = forms.post("/ui/indflytning", {**form, **MOVE_IN, **heavy, "handling": "gem"})
    assert refused.status_code == 409 and 'id="special_code-error"' in refused.text
    assert "vælg en særtakst (S1/S2)" in refused.text and api.get("/v1/citizens/BOR-0042").status_code == 404
    no_reason = forms.post("/ui/indflytning", {**form, **MOVE_IN, **heavy, "special_code": "S1",
                                               "special_rate": "6.250,00", "handling": "gem"})
    assert no_reason.status_code == 422 and "en særtakst kræver den" in no_reason.text
    saved = forms.post("/ui/indflytning", {**form, **MOVE_IN, **heavy, "special_code": "S1",
                                           "special_rate": "6.250,00", "reason": "Døgndækning", "handling": "gem"})
    assert saved.status_code == 200 and shown(saved.text, "recorded-level") == "Særtakst S1"
    period = api.get("/v1/citizens/BOR-0042").json()["stays"][0]["periods"][0]
    assert (period["special_tariff"], period["service_rate"]) == ("S1", "6250.00")

    before = forms.open("/ui/indflytning")
    no_schedule = forms.post("/ui/indflytning", {**before, **MOVE_IN, "citizen_ref": "BOR-9",
                                                 "effective_date": "2025-06-01", **FIVE_HOURS, "handling": "beregn"})
    assert no_schedule.status_code == 409 and 'id="preview"' not in no_schedule.text
    assert re.search(r'id="effective_date-error"[^>]*>Der er intet takstblad for året', no_schedule.text)


def test_the_cells_are_refused_in_danish_beside_each_and_nothing_is_recorded(world):
    api, forms, _ = world
    form = forms.open("/ui/indflytning")
    wrong = cells(egenomsorg__morning__direct="abc", mobilitet__night__indirect="-5",
                  relationer__daytime__direct="2000", samfundsliv__evening__indirect="1.5",
                  kommunikation__morning__indirect="30")
    for action in ("beregn", "gem"):
        refused = forms.post("/ui/indflytning", {**form, **MOVE_IN, **wrong, "handling": action})
        assert refused.status_code == 422
        for name, message in [("egenomsorg-morning-direct", "«abc» er ikke et helt antal minutter."),
                              ("mobilitet-night-indirect", "Minutter kan ikke være negative."),
                              ("relationer-daytime-direct", "Højst 1.440 minutter (et døgn)."),
                              ("samfundsliv-evening-indirect", "«1.5» er ikke et helt antal minutter.")]:
            assert f'<span class="cell-error" id="m-{name}-error">{message}</span>' in refused.text, name
            assert re.search(rf'id="m-{name}" name="m-{name}"[^>]*aria-invalid="true"', refused.text)
        assert 'value="30" aria-label="Kommunikation, morgen (06-10), indirekte minutter">' in refused.text
        assert 'id="preview"' not in refused.text
    empty = forms.post("/ui/indflytning", {**form, **MOVE_IN, "handling": "gem"})
    assert empty.status_code == 422 and "Udfyld døgnskemaet: mindst ét felt med minutter over 0." in empty.text
    too_much = forms.post("/ui/indflytning", {**form, **MOVE_IN, "handling": "beregn",
                                              **cells(egenomsorg__morning__direct=1000, egenomsorg__night__direct=500)})
    assert "Døgnskemaet summer til 1.500 minutter – mere end et døgn (1.440 minutter)." in too_much.text
    fields = forms.post("/ui/indflytning", {**form, **FIVE_HOURS, "citizen_ref": "bor 1", "facility": "",
                                            "effective_date": "1.3.2026", "paying_municipality": "999",
                                            "handling": "gem"})
    assert fields.status_code == 422
    assert "Virkningsdato: «1.3.2026» er ikke en dato; skriv den som ÅÅÅÅ-MM-DD." in fields.text
    unknown = forms.post("/ui/indflytning", {**form, **FIVE_HOURS, **MOVE_IN, "citizen_ref": "bor 1",
                                             "facility": "", "paying_municipality": "999", "handling": "gem"})
    for field in ("citizen_ref", "facility", "paying_municipality"):
        assert f'id="{field}-error"' in unknown.text, field
    assert api.get("/v1/citizens/BOR-0042").status_code == 404


def test_parse_assessment_keeps_the_cells_above_zero_in_the_declarations_order():
    parsed = parse_assessment({**cells(relationer__night__direct=" 45 ", egenomsorg__evening__indirect=0,
                                       egenomsorg__morning__indirect="15"), "other": "x"})
    assert parsed == Assessment.model_validate({"entries": [
        {"theme": "egenomsorg", "slot": "morning", "kind": "indirect", "minutes": 15},
        {"theme": "relationer", "slot": "night", "kind": "direct", "minutes": 45}]})
    with pytest.raises(SkemaErrors) as refused:
        parse_assessment(cells(egenomsorg__evening__indirect=0))
    assert set(refused.value.errors) == {SKEMA}


def test_a_form_sent_twice_records_once_and_its_key_sent_with_other_values_records_nothing(world):
    api, forms, _ = world
    form = forms.open("/ui/indflytning")
    first = forms.post("/ui/indflytning", {**form, **MOVE_IN, **FIVE_HOURS, "handling": "gem"})
    again = forms.post("/ui/indflytning", {**form, **MOVE_IN, **FIVE_HOURS, "handling": "gem"})
    assert first.status_code == again.status_code == 200
    assert 'id="replayed"' not in first.text and 'id="replayed"' in again.text
    assert shown(first.text, "recorded-hours") == shown(again.text, "recorded-hours")
    changed = forms.post("/ui/indflytning", {**form, **MOVE_IN, **FIVE_HOURS, "reason": "Andet", "handling": "gem"})
    assert changed.status_code == 409 and "allerede sendt med andre værdier" in changed.text
    assert KEY.search(changed.text).group(1) != form["idempotency_key"]  # a new key for a new registration
    assert len(api.get("/v1/citizens/BOR-0042").json()["events"]) == 1

    reassess = forms.open("/ui/revurdering?ref=bor-0042")
    data = {**reassess, "citizen_ref": "BOR-0042", "effective_date": "2026-05-01", **FIVE_HOURS,
            **cells(egenomsorg__morning__direct=240), "handling": "gem"}
    assert forms.post("/ui/revurdering", data).status_code == 200
    assert 'id="replayed"' in forms.post("/ui/revurdering", data).text
    events = api.get("/v1/citizens/BOR-0042").json()["events"]
    assert [e["type"] for e in events] == ["CitizenMovedIn", "CitizenReassessed"]
    assert events[1]["details"]["level"] == 4 and events[1]["details"]["hours_per_day"] == "7.00"


def test_the_reassessment_form_starts_from_the_assessment_in_force_and_refuses_what_the_ledger_refuses(world):
    api, forms, _ = world
    move_in = {k: v for k, v in MOVE_IN.items() if k != "citizen_ref"}
    assert api.post("/v1/citizens/BOR-0042/move-in", {**move_in, "assessment": døgnskema(300)},
                    role="caseworker").status_code == 201
    page = forms.get("/ui/revurdering?ref=bor-0042")
    assert page.status_code == 200 and "<h1>Revurdering – <a" in page.text
    assert "Gældende nu (fra 01.03.2026): 5,00 timer pr. døgn, niveau 3." in page.text
    assert 'name="m-egenomsorg-morning-direct" type="text" inputmode="numeric" autocomplete="off" size="4" ' \
           'maxlength="8" value="150"' in page.text
    form = {"csrf_token": form_token(page.text), "idempotency_key": KEY.search(page.text).group(1)}
    before = forms.post("/ui/revurdering", {**form, "citizen_ref": "BOR-0042", "effective_date": "2026-02-01",
                                            **FIVE_HOURS, "handling": "gem"})
    assert before.status_code == 409 and re.search(r'id="effective_date-error"[^>]*>Borgeren har intet ophold',
                                                   before.text)
    unknown = forms.get("/ui/revurdering?ref=BOR-NOBODY")
    assert unknown.status_code == 404 and 'id="citizen_ref-error"' in unknown.text
    assert len(api.get("/v1/citizens/BOR-0042").json()["events"]) == 1


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_a_role_that_may_not_send_the_commands_gets_neither_form_nor_record(world, role):
    api, forms, _ = world
    for path in ("/ui/indflytning", "/ui/revurdering?ref=BOR-0042"):
        page = forms.get(path, role)
        assert page.status_code == 403 and "Siden kan ses af: administrator, sagsbehandler." in page.text
    token = form_token(forms.get("/ui/borger", role).text)
    posted = forms.post("/ui/indflytning", {"csrf_token": token, **MOVE_IN, **FIVE_HOURS, "handling": "gem"}, role)
    assert posted.status_code == 403 and api.get("/v1/citizens/BOR-0042").status_code == 404
    assert forms.post("/ui/revurdering", {"csrf_token": token, "citizen_ref": "BOR-0042", **FIVE_HOURS,
                                          "effective_date": "2026-05-01", "handling": "gem"}, role).status_code == 403
    assert 'id="new-move-in"' not in forms.get("/ui/borger", role).text
    assert forms.get("/ui/indflytning", "admin").status_code == 200


def test_the_citizen_page_shows_each_assessment_as_its_table_and_what_changed(world):
    api, forms, ledger = world
    move_in = {k: v for k, v in MOVE_IN.items() if k != "citizen_ref"}
    first = {"entries": [{"theme": "egenomsorg", "slot": "morning", "kind": "direct", "minutes": 120},
                         {"theme": "mobilitet", "slot": "evening", "kind": "indirect", "minutes": 90},
                         {"theme": "relationer", "slot": "night", "kind": "direct", "minutes": 90}]}
    second = {"entries": [{"theme": "egenomsorg", "slot": "morning", "kind": "direct", "minutes": 180},
                          {"theme": "relationer", "slot": "night", "kind": "direct", "minutes": 90},
                          {"theme": "sundhedsforhold", "slot": "daytime", "kind": "indirect", "minutes": 150}]}
    assert api.post("/v1/citizens/BOR-0042/move-in", {**move_in, "assessment": first},
                    role="caseworker").status_code == 201
    wrong = api.post("/v1/citizens/BOR-0042/reassessments", {"effective_date": "2026-04-01",
                     "assessment": {"hours_per_day": "1"}}, role="caseworker").json()["event_id"]
    assert api.post("/v1/retractions", {"event_id": wrong, "reason": "Forkert skema"},
                    role="caseworker").status_code == 201
    assert api.post("/v1/citizens/BOR-0042/reassessments", {"effective_date": "2026-05-01", "assessment": second},
                    role="caseworker").status_code == 201

    position = Timeline(ledger.engine).max_position()
    history = citizen_assessments(ledger, "BOR-0042", api.client.app.state.projections.wait(position, 10))
    assert [(a.effective_date, a.hours_per_day, a.level) for a in history.assessments] == [
        (date(2026, 3, 1), Decimal("5.00"), 3), (date(2026, 5, 1), Decimal("7.00"), 4)]
    change = history.assessments[1].change
    assert [(c.cell, c.before, c.after, c.change) for c in change.cells] == [
        (("egenomsorg", "morning", "direct"), 120, 180, "changed"),
        (("mobilitet", "evening", "indirect"), 90, 0, "removed"),
        (("sundhedsforhold", "daytime", "indirect"), 0, 150, "added")]
    assert (change.hours_before, change.level_before, change.level_after) == (Decimal("5.00"), 3, 4)

    page = forms.get("/ui/borger/BOR-0042", "auditor").text
    assert page.count('<article class="assessment"') == 2  # the retracted reassessment is not one of them
    assert "5,00 timer pr. døgn, niveau 3" in page and "7,00 timer pr. døgn, niveau 4" in page
    assert '<td class="num direct" data-cell="m-egenomsorg-morning-direct">120</td>' in page
    assert ('<td class="num direct changed" data-cell="m-egenomsorg-morning-direct" title="Egenomsorg, morgen '
            '(06-10), direkte minutter: før 120, nu 180"><del>120</del> 180</td>') in page
    assert '<td class="num indirect removed" data-cell="m-mobilitet-evening-indirect"' in page
    assert '<ins>150</ins>' in page
    assert "timer pr. døgn 5,00 → 7,00, niveau 3 → 4." in page
    assert "Tilføjet: Sundhedsforhold, dag (10-16), indirekte 150 min." in page
    assert "Fjernet: Mobilitet, aften (16-22), indirekte 90 min." in page
    assert "Ændret: Egenomsorg, morgen (06-10), direkte 120 → 180 min." in page
    assert re.search(r'class="num total-minutes">300<.*class="num total-minutes">420<', page, re.S)
    assert 'id="new-reassessment"' not in page  # the auditor may not reassess
    assert 'id="new-reassessment"' in forms.get("/ui/borger/BOR-0042").text


AGAIN = re.compile(r'<input type="checkbox" id="register-again" name="gentag" value="([^"]+)">')


def test_a_move_in_or_reassessment_sent_again_by_the_form_rendered_anew_records_nothing_unless_registrer_igen(world):
    """Back after "Gem" renders the døgnskema form anew with a fresh key while the browser
    restores the cells: the same move-in or reassessment is not recorded again; the page says
    when it was saved and links to it, and "Registrer igen" records it once more (docs/adr/0044)."""
    api, forms, ledger = world
    assert forms.post("/ui/indflytning", {**forms.open("/ui/indflytning"), **MOVE_IN, **FIVE_HOURS,
                                          "handling": "gem"}).status_code == 200
    position = Timeline(ledger.engine).max_position()
    back = forms.post("/ui/indflytning", {**forms.open("/ui/indflytning"), **MOVE_IN, **FIVE_HOURS, "handling": "gem"})
    assert back.status_code == 409 and Timeline(ledger.engine).max_position() == position
    notice = back.text[back.text.index('id="already-recorded"'):]
    assert re.search(r"Denne registrering er allerede gemt i denne session kl\. \d\d:\d\d\.", notice)
    assert f"position {position}," in notice and "/ui/forklar?facility=GRENAA-BO" in notice
    assert AGAIN.search(back.text).group(1) == api.get("/v1/citizens/BOR-0042").json()["events"][0]["event_id"]
    assert 'value="2026-03-01"' in back.text  # what was typed is kept

    reassess = {"citizen_ref": "BOR-0042", "effective_date": "2026-05-01", **FIVE_HOURS, "handling": "gem"}
    assert forms.post("/ui/revurdering", {**forms.open("/ui/revurdering?ref=BOR-0042"), **reassess}).status_code == 200
    position = Timeline(ledger.engine).max_position()
    form = forms.open("/ui/revurdering?ref=BOR-0042")
    refused = forms.post("/ui/revurdering", {**form, **reassess})
    assert refused.status_code == 409 and 'id="already-recorded"' in refused.text
    assert forms.post("/ui/revurdering", {**form, **reassess, "gentag": "an-older-one"}).status_code == 409
    assert Timeline(ledger.engine).max_position() == position
    again = forms.post("/ui/revurdering", {**form, **reassess, "gentag": AGAIN.search(refused.text).group(1)})
    assert again.status_code == 200 and 'id="replayed"' not in again.text
    assert [e["type"] for e in api.get("/v1/citizens/BOR-0042").json()["events"]] == [
        "CitizenMovedIn", "CitizenReassessed", "CitizenReassessed"]
