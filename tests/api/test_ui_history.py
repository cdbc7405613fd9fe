"""Walking the ledger's history in the web UI (issue 22, point 7), on both stores: the
"Hændelser" page's filters and paging against GET /v1/audit, each event's links to its
facility's budget just before and just after it, the step bar of the pages with figures (the
event that last changed what a page shows, and the next), and "Opgjort pr." as a date, a date
and time, or a store position, with Danish refusals.

The world: two facilities; A moves in to GRENAA-BO (level 3, paid by Aarhus) and is
reassessed to level 5 from May; B moves in to AUNING-BO and is granted the special tariff S1;
last, finance revises level 1's rate from July, which no stay is on: it changes no figure.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service import event_history
from service.ui import history_pages
from service.ui.formatting import COPENHAGEN, kroner, signed_kroner
from tests.api.test_ui import Browser
from tests.conftest import Api
from tests.factories import facility_body, frame_body, move_in_body, schedule_body


class World:
    def __init__(self, api: Api, browser: Browser) -> None:
        self.api, self.browser = api, browser
        self.positions: dict[str, int] = {}

    def record(self, name: str, response) -> None:  # type: ignore[no-untyped-def]
        assert response.status_code == 201, (name, response.text)
        self.positions[name] = response.json()["position"]

    def page(self, path: str, role: str = "finance") -> str:
        response = self.browser.get(path, role=role)
        assert response.status_code == 200, (path, response.status_code, response.text[:2000])
        return response.text


@pytest.fixture
def world(settings, ledger, tokens):  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings, ledger), raise_server_exceptions=False) as client:
        api = Api(client, tokens)
        world = World(api, Browser(client, tokens))
        world.record("grenaa", api.post("/v1/facilities", facility_body("GRENAA-BO"), role="finance"))
        auning = {**facility_body("AUNING-BO"), "name": "Auning Bo", "area": "Auning"}
        world.record("auning", api.post("/v1/facilities", auning, role="finance"))
        world.record("schedule", api.put("/v1/tariff-schedules/2026", schedule_body(), role="finance"))
        world.record("frame", api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body(), role="finance"))
        world.record("frame_auning", api.put("/v1/facilities/AUNING-BO/frame-budgets/2026", frame_body(),
                                             role="finance"))
        world.record("a_in", api.post("/v1/citizens/A/move-in", move_in_body("GRENAA-BO", payer="751"),
                                      role="caseworker"))
        world.record("b_in", api.post("/v1/citizens/B/move-in", move_in_body("AUNING-BO", day="2026-02-01"),
                                      role="caseworker"))
        world.record("a_reassessed", api.post("/v1/citizens/A/reassessments", {
            "effective_date": "2026-05-01", "assessment": {"hours_per_day": "9.5"}}, role="caseworker"))
        world.record("b_special", api.post("/v1/citizens/B/special-tariff", {
            "effective_date": "2026-04-01", "code": "S1", "daily_rate": "7000.00", "reason": "Særlige behov"},
            role="caseworker"))
        world.record("revision", api.post("/v1/tariff-schedules/2026/revisions", {
            "effective_date": "2026-07-01", "level": 1, "daily_rate": "650.00"}, role="finance"))
        yield world


ROW = re.compile(r'<tr data-position="(\d+)"')


def positions(html: str) -> list[int]:
    return [int(p) for p in ROW.findall(html)]


def link(html: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}" href="([^"]*)"', html)
    return None if found is None else unescape(found.group(1))


def query_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def audit_positions(world: World, **params: str) -> list[int]:
    body = world.api.get("/v1/audit", params=params, role="auditor").json()
    return [e["position"] for e in reversed(body["events"])]


def test_the_events_page_filters_like_the_audit_and_links_each_event_to_the_budget_before_and_after(world):
    everything = world.page("/ui/haendelser")
    assert positions(everything) == audit_positions(world) == sorted(world.positions.values(), reverse=True)
    for params in ({"facility": "AUNING-BO"}, {"citizen": "A"}, {"facility": "GRENAA-BO", "citizen": "A"}):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        assert positions(world.page(f"/ui/haendelser?{query}")) == audit_positions(world, **params), params
    auning = positions(world.page("/ui/haendelser?facility=AUNING-BO"))
    assert auning == [world.positions[n] for n in ("b_special", "b_in", "frame_auning", "auning")]
    moved_in = world.page("/ui/haendelser?type=CitizenMovedIn")
    assert positions(moved_in) == audit_positions(world, type="CitizenMovedIn") == \
        [world.positions["b_in"], world.positions["a_in"]]
    by_finance = positions(world.page("/ui/haendelser?actor=finance-tester"))
    assert by_finance == audit_positions(world, actor="finance-tester") == \
        [world.positions[n] for n in ("revision", "frame_auning", "frame", "schedule", "auning", "grenaa")]
    both = {"actor": "caseworker-tester", "type": "CitizenReassessed", "facility": "GRENAA-BO"}
    assert positions(world.page("/ui/haendelser?" + "&".join(f"{k}={v}" for k, v in both.items()))) == \
        audit_positions(world, **both) == [world.positions["a_reassessed"]]
    assert world.api.get("/v1/audit?type=Nonsense", role="auditor").json()["errors"][0]["field"] == "type"
    assert positions(world.page("/ui/haendelser?actor=nobody")) == []
    reassessed = world.positions["a_reassessed"]
    row = everything[everything.index(f'<tr data-position="{reassessed}"'):]
    row = row[:row.index("</tr>")]
    before = unescape(re.search(r'class="before" href="([^"]*)"', row).group(1))
    after = unescape(re.search(r'class="after" href="([^"]*)"', row).group(1))
    assert before == f"/ui/tilbud/GRENAA-BO?year=2026&as_of_position={reassessed - 1}"
    assert after == f"/ui/tilbud/GRENAA-BO?year=2026&as_of_position={reassessed}"
    for href, position in ((before, reassessed - 1), (after, reassessed)):
        shown = world.page(href)
        budget = world.api.get(f"/v1/budgets/GRENAA-BO/2026?as_of_position={position}").json()
        assert f"Opgjort pr. position {position}." in shown
        assert kroner(budget["totals"]["total"]) in shown and kroner(budget["totals"]["activity"]) in shown
    why = world.page(unescape(re.search(r'class="why" href="([^"]*)"', row).group(1)))
    explained = world.api.get(f"/v1/budgets/GRENAA-BO/2026/all/explain?from_position={reassessed - 1}"
                              f"&to_position={reassessed}").json()
    assert [c["position"] for c in explained["changes"]] == [reassessed] and explained["delta"] != "0.00"
    assert signed_kroner(explained["delta"]) in why and f"Før (pr. position {reassessed - 1})" in why
    assert world.browser.get(f"/ui/forklar?facility=GRENAA-BO&year=2026&fra={reassessed}&til={reassessed - 1}"
                             ).status_code == 422
    assert world.api.get(f"/v1/budgets/GRENAA-BO/2026?as_of_position={reassessed - 1}").json()["totals"] != \
        world.api.get(f"/v1/budgets/GRENAA-BO/2026?as_of_position={reassessed}").json()["totals"]
    assert 'class="before"' not in everything[everything.index(f'<tr data-position="{world.positions["grenaa"]}"'):]
    revision = everything[everything.index(f'<tr data-position="{world.positions["revision"]}"'):]
    assert f'href="/ui/oversigt?year=2026&amp;as_of_position={world.positions["revision"] - 1}"' in \
        revision[:revision.index("</tr>")]
    reads = world.api.get("/v1/audit/citizen-reads", role="auditor").json()["reads"]
    assert {r["citizen_ref"] for r in reads if r["resource"].startswith("/ui/haendelser")} == {"A", "B"}


def test_the_events_page_pages_newest_first_and_refuses_in_danish(world, monkeypatch):
    monkeypatch.setattr(history_pages, "PAGE_SIZE", 4)
    p = world.positions
    everything = sorted(world.positions.values(), reverse=True)
    first = world.page("/ui/haendelser")
    assert positions(first) == everything[:4] and link(first, "page-newer") is None
    second = world.page(link(first, "page-older"))
    assert positions(second) == everything[4:8]
    third = world.page(link(second, "page-older"))
    assert positions(third) == everything[8:] and link(third, "page-older") is None
    assert positions(world.page(link(third, "page-newer"))) == everything[4:8]
    assert positions(world.page(link(second, "page-newer"))) == everything[:4]
    filtered = world.page("/ui/haendelser?actor=finance-tester")
    assert "actor=finance-tester" in link(filtered, "page-older")
    assert positions(world.page(link(filtered, "page-older"))) == [p["frame"], p["schedule"], p["auning"], p["grenaa"]][2:]
    monkeypatch.setattr(event_history, "SCAN_LIMIT", 3)  # a selective filter over a long history
    found, href, notes = [], "/ui/haendelser?type=FacilityRegistered", 0
    while href is not None:
        shown = world.page(href)
        found += positions(shown)
        notes += "Søgningen standsede ved position" in shown
        href = link(shown, "page-older")
    assert found == [p["auning"], p["grenaa"]] and notes >= 2
    monkeypatch.setattr(event_history, "SCAN_LIMIT", 5000)
    as_of = world.page(f"/ui/haendelser?as_of={world.positions['a_in']}")
    assert positions(as_of) == [p for p in everything if p <= world.positions["a_in"]][:4]
    for query, message in (("type=Nonsense", "Type: vælg en af hændelsestyperne"),
                           ("citizen=a%20b", "Borger: en reference er 1-64 tegn"),
                           ("before_position=x", "Side: «x» er ikke en position"),
                           (f"after_position={2**64}", "Side: «18446744073709551616» er ikke en position"),
                           (f"as_of_position={2**64}", "positionen 18446744073709551616 er for stor")):
        refused = world.browser.get(f"/ui/haendelser?{query}")
        assert refused.status_code == 422 and message in refused.text, (query, refused.text[-3000:])
        assert 'id="event-filters"' in refused.text
    assert world.browser.get("/ui/haendelser", role="caseworker").status_code == 403


def steps_of(html: str) -> str:
    bar = html[html.index('id="steps"'):]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", bar[bar.index(">") + 1:bar.index("</nav>")])).split())


def test_every_page_with_figures_steps_to_the_event_before_and_after(world):
    p = world.positions
    facility = world.page("/ui/tilbud/GRENAA-BO?year=2026")
    assert f"Senest ændret ved Revurdering (position {p['a_reassessed']}" in steps_of(facility)
    assert link(facility, "step-next") is None
    previous = link(facility, "step-previous")
    assert query_of(previous) == {"year": "2026", "as_of_position": str(p["a_reassessed"] - 1)}
    stepped = world.page(previous)
    assert f"Senest ændret ved Indflytning (position {p['a_in']}" in steps_of(stepped)
    assert query_of(link(stepped, "step-next"))["as_of_position"] == str(p["a_reassessed"])
    assert f'value="{p["a_reassessed"] - 1}"' in stepped  # the field shows the position
    citizen = world.page("/ui/borger/A")
    assert f"Senest ændret ved Revurdering (position {p['a_reassessed']}" in steps_of(citizen)
    earlier = world.page(link(citizen, "step-previous"))
    assert f"Senest ændret ved Indflytning (position {p['a_in']}" in steps_of(earlier)
    assert "9,50" not in earlier.split('id="steps"')[1].split('id="events"')[0]
    overview = world.page("/ui/oversigt?year=2026")
    assert f"(position {p['b_special']}" in steps_of(overview)  # the revision changed no figure
    assert query_of(link(world.page(link(overview, "step-previous")), "step-next"))["as_of_position"] == \
        str(p["b_special"])
    statement = world.page("/ui/afregning?municipality=751&year=2026&month=5")
    assert f"(position {p['a_reassessed']}" in steps_of(statement)
    march = world.page(link(statement, "step-previous"))
    assert f"(position {p['a_in']}" in steps_of(march)
    april = world.page("/ui/afregning?municipality=751&year=2026&month=4")  # the row holds the year: the
    assert f"(position {p['a_in']}" in steps_of(april)  # reassessment from May changed it, not April's lines
    assert link(april, "step-next") is None
    regulation = steps_of(world.page("/ui/efterregulering?year=2026"))
    assert f"(position {p['b_special']}" in regulation  # no year is closed: its year rows are what it reads
    first = world.page(f"/ui/tilbud/GRENAA-BO?year=2026&as_of_position={p['grenaa']}")
    assert f"Senest ændret ved Tilbud oprettet (position {p['grenaa']}" in steps_of(first)
    assert query_of(link(first, "step-next"))["as_of_position"] == str(p["schedule"])  # its hourly rate
    assert world.browser.get(link(first, "step-previous")).status_code == 404  # the facility did not exist
    what_if = world.page("/ui/hvad-hvis?year=2026&rate_1=700,00")  # the draft's rates go with each step
    # the revision changed no budget, but the year's rates the what-if starts from
    assert f"(position {p['revision']}" in steps_of(what_if) and 'id="what-if-facilities"' in what_if
    back = query_of(link(what_if, "step-previous"))
    assert (back["year"], back["rate_1"], back["as_of_position"]) == ("2026", "700,00", str(p["revision"] - 1))
    before = world.page(link(what_if, "step-previous"))
    assert query_of(link(before, "step-next"))["as_of_position"] == str(p["revision"])
    assert f"(position {p['b_special']}" in steps_of(before)
    explained = world.page(f"/ui/forklar?facility=GRENAA-BO&year=2026&fra=0&til={p['a_reassessed']}")
    assert f"Senest ændret ved Revurdering (position {p['a_reassessed']}" in steps_of(explained)
    back = query_of(link(explained, "step-previous"))
    assert (back["til"], back["fra"], back["facility"]) == (str(p["a_reassessed"] - 1), "0", "GRENAA-BO")
    assert f"Senest ændret ved Indflytning (position {p['a_in']}" in steps_of(world.page(link(explained,
                                                                                              "step-previous")))


def test_opgjort_pr_takes_a_date_a_time_or_a_position_and_refuses_the_rest_in_danish(world):
    p = world.positions
    recorded = {e["position"]: e["recorded_at"] for e in
                world.api.get("/v1/audit", role="auditor").json()["events"]}
    at_move_in = datetime.fromisoformat(recorded[p["a_in"]]).astimezone(COPENHAGEN)
    by_position = world.page(f"/ui/borger/A?as_of={p['a_in']}")
    assert f"Opgjort pr. position {p['a_in']}." in by_position and f'value="{p["a_in"]}"' in by_position
    for written in (f"%23{p['a_in']}", f"position%20{p['a_in']}"):
        assert f"Opgjort pr. position {p['a_in']}." in world.page(f"/ui/borger/A?as_of={written}")
    moment = (at_move_in + timedelta(microseconds=1)).isoformat()
    at_time = world.page(f"/ui/borger/A?as_of={quote(moment)}")
    shown = re.search(r"\(position (\d+)\)", at_time).group(1)
    assert p["a_in"] <= int(shown) < p["a_reassessed"]
    today = world.page(f"/ui/oversigt?year=2026&as_of={datetime.now(COPENHAGEN).date().isoformat()}")
    assert f"(position {max(p.values())})" in today
    for value, message in (("1.4.2026", "er ikke en dato, et tidspunkt eller en position"),
                           ("2999-01-01", "ligger i fremtiden"),
                           ("2999-01-01 10:00", "ligger i fremtiden"),
                           ("1999-12-31 10:00", "ligger før 2000"),
                           ("999999", "position 999999 er ikke registreret endnu")):
        refused = world.browser.get(f"/ui/oversigt?year=2026&as_of={quote(value)}")
        assert refused.status_code == 422 and message in refused.text, (value, refused.text[-2000:])
    both = world.browser.get(f"/ui/oversigt?as_of=2026-01-01&as_of_position={p['a_in']}")
    assert both.status_code == 422 and "ikke begge" in both.text


def test_the_type_filter_names_every_event_type_of_the_domain_with_a_danish_label():
    from domain.citizen import Citizen
    from domain.facility import Facility
    from domain.tariff_schedule import TariffSchedule
    from service.audit import EVENT_TYPES, public_type_of_class
    from service.ui.formatting import EVENT_TYPES as LABELS

    events = {public_type_of_class(v) for cls in (Facility, Citizen, TariffSchedule) for v in vars(cls).values()
              if isinstance(v, type) and issubclass(v, cls.Event) and v.__name__ not in ("Event", "Created")}
    assert set(EVENT_TYPES) == events == set(LABELS)
