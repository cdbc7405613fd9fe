"""The bounds of domain §3 through HTTP, on both stores: each value at its edge is recorded,
one step past it is refused with 422 naming the field, and the store is left as it was."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from domain.facility import COST_CATEGORIES
from domain.values import Meta
from service.db import ledger_entries
from service.importer import ImportFailed, import_lines
from service.ledger import Actor
from tests.factories import facility_body, frame_body, move_in_body, schedule_body

S1 = {"code": "S1", "daily_rate": "6000.00"}
"""Granted with a need of 24 hours a day, which lies above level 8."""


def _levels(index: int, key: str, value: Any) -> dict[str, Any]:
    body = schedule_body()
    body["levels"][index][key] = value
    return body


def _entries(minutes: int) -> dict[str, Any]:
    return {"effective_date": "2026-05-01", "special_tariff": S1, "reason": "særlige behov",
            "assessment": {"entries": [{"theme": "egenomsorg", "slot": "morning", "kind": "direct",
                                        "minutes": minutes}]}}


def _line(category: str, amount: str) -> dict[str, Any]:
    return frame_body() | {"lines": [{"category": category, "amount": amount}]}


@dataclass(frozen=True)
class Bound:
    send: Callable[[Any], tuple[str, str, dict[str, Any] | None]]
    field: str
    edge: Any
    past: Any


BOUNDS = {
    "level daily rate, lowest": Bound(lambda v: ("PUT", "/v1/tariff-schedules/2026", _levels(0, "daily_rate", v)),
                                      "levels[0].daily_rate", "0.01", "0.00"),
    "level daily rate, highest": Bound(lambda v: ("PUT", "/v1/tariff-schedules/2026", _levels(7, "daily_rate", v)),
                                       "levels[7].daily_rate", "100000.00", "100000.01"),
    "hourly rate": Bound(lambda v: ("PUT", "/v1/tariff-schedules/2026", schedule_body(hourly_rate=v)),
                         "hourly_rate", "100000.00", "100000.01"),
    "level hours": Bound(lambda v: ("PUT", "/v1/tariff-schedules/2026", _levels(7, "max_hours", v)),
                         "levels[7].max_hours", "24", "24.01"),
    "revision daily rate": Bound(lambda v: ("POST", "/v1/tariff-schedules/2026/revisions",
                                            {"effective_date": "2026-07-01", "level": 3, "daily_rate": v}),
                                 "daily_rate", "100000.00", "100000.01"),
    "special tariff daily rate": Bound(lambda v: ("POST", "/v1/citizens/A/special-tariff",
                                                  {"effective_date": "2026-05-01", "code": "S1", "daily_rate": v,
                                                   "reason": "særlige behov"}),
                                       "daily_rate", "100000.00", "100000.01"),
    "frame line": Bound(lambda v: ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026", _line("nattevagt", v)),
                        "lines[0].amount", "10000000000.00", "10000000000.01"),
    "regulation line": Bound(lambda v: ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026",
                                        _line("regulation", v)),
                             "lines[0].amount", "-10000000000.00", "-10000000000.01"),
    "baseline": Bound(lambda v: ("PUT", "/v1/facilities/GRENAA-BO/baselines/2026",
                                 {"baseline_budget": v, "phase_in_pct": "50"}),
                      "baseline_budget", "10000000000.00", "10000000000.01"),
    "actual costs": Bound(lambda v: ("POST", "/v1/facilities/GRENAA-BO/accounts/2026", {"actual_costs": v}),
                          "actual_costs", "10000000000.00", "10000000000.01"),
    "places, fewest": Bound(lambda v: ("POST", "/v1/facilities", facility_body("NEW-1", places=v)), "places", 1, 0),
    "places, most": Bound(lambda v: ("POST", "/v1/facilities", facility_body("NEW-1", places=v)),
                          "places", 10_000, 10_001),
    "capacity": Bound(lambda v: ("POST", "/v1/facilities/GRENAA-BO/capacity",
                                 {"effective_date": "2026-06-01", "places": v}), "places", 10_000, 10_001),
    "budgeted places": Bound(lambda v: ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026",
                                        frame_body() | {"budgeted_places": v}), "budgeted_places", 10_000, 10_001),
    "phase-in, lowest": Bound(lambda v: ("PUT", "/v1/facilities/GRENAA-BO/baselines/2026",
                                         {"baseline_budget": "1000.00", "phase_in_pct": v}),
                              "phase_in_pct", "0", "-0.01"),
    "phase-in, highest": Bound(lambda v: ("PUT", "/v1/facilities/GRENAA-BO/baselines/2026",
                                          {"baseline_budget": "1000.00", "phase_in_pct": v}),
                               "phase_in_pct", "100", "100.01"),
    "planned occupancy, lowest": Bound(lambda v: ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026",
                                                  frame_body() | {"planned_occupancy_pct": v}),
                                       "planned_occupancy_pct", "1", "0.99"),
    "planned occupancy, highest": Bound(lambda v: ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026",
                                                   frame_body() | {"planned_occupancy_pct": v}),
                                        "planned_occupancy_pct", 100, "100.01"),
    "minutes, fewest": Bound(lambda v: ("POST", "/v1/citizens/A/reassessments", _entries(v)),
                             "assessment.entries[0].minutes", 1, 0),
    "minutes, most": Bound(lambda v: ("POST", "/v1/citizens/A/reassessments", _entries(v)),
                           "assessment.entries[0].minutes", 1440, 1441),
    "hours per day": Bound(lambda v: ("POST", "/v1/citizens/A/reassessments",
                                      {"effective_date": "2026-05-01", "assessment": {"hours_per_day": v},
                                       "special_tariff": S1, "reason": "særlige behov"}),
                           "assessment.hours_per_day", "24", "24.01"),
    "year, last": Bound(lambda v: ("PUT", f"/v1/tariff-schedules/{v}", schedule_body()), "year", 2099, 2100),
    "year, first": Bound(lambda v: ("PUT", f"/v1/tariff-schedules/{v}", schedule_body()), "year", 2000, 1999),
    "year of a frame budget": Bound(lambda v: ("PUT", f"/v1/facilities/GRENAA-BO/frame-budgets/{v}", frame_body()),
                                    "year", 2099, 2100),
    "effective date, last": Bound(lambda v: ("POST", "/v1/facilities/GRENAA-BO/capacity",
                                             {"effective_date": v, "places": 12}),
                                  "effective_date", "2099-12-31", "2100-01-01"),
    "effective date, first": Bound(lambda v: ("POST", "/v1/facilities/GRENAA-BO/capacity",
                                              {"effective_date": v, "places": 12}),
                                   "effective_date", "2000-01-01", "1999-12-31"),
    "effective date of a registration": Bound(lambda v: ("POST", "/v1/facilities",
                                                         facility_body("NEW-2") | {"effective_date": v}),
                                              "effective_date", "2099-12-31", "2100-01-01"),
}


@pytest.fixture
def grenaa(api) -> None:
    assert api.post("/v1/facilities", facility_body("GRENAA-BO"), role="finance").status_code == 201
    assert api.put("/v1/tariff-schedules/2026", schedule_body(), role="finance").status_code == 201
    assert api.post("/v1/citizens/A/move-in", move_in_body("GRENAA-BO"), role="caseworker").status_code == 201


def entries(api) -> int:
    engine = api.client.app.state.ledger.engine
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(ledger_entries)).scalar()


@pytest.mark.parametrize("name", BOUNDS)
def test_a_value_at_its_bound_is_recorded_and_one_past_it_is_refused_naming_the_field(api, grenaa, name):
    bound = BOUNDS[name]
    before = entries(api)
    method, path, body = bound.send(bound.past)
    refused = api.as_("admin", method, path, json=body)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["rule"] and refused.headers["content-type"] == "application/problem+json"
    assert bound.field in [error["field"] for error in problem["errors"]], problem
    assert entries(api) == before
    method, path, body = bound.send(bound.edge)
    recorded = api.as_("admin", method, path, json=body)
    assert recorded.status_code == 201, recorded.text


def test_the_openapi_schema_states_the_bounds(api):
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    facility = schemas["FacilityCreate"]["properties"]
    assert (facility["places"]["minimum"], facility["places"]["maximum"]) == (1, 10_000)
    assert facility["code"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
    level = schemas["LevelIn"]["properties"]
    assert "100000.00" in level["daily_rate"]["description"] and level["daily_rate"]["pattern"]
    assert "10000000000.00" in schemas["AccountsCreate"]["properties"]["actual_costs"]["description"]
    minutes = schemas["AssessmentEntry"]["properties"]["minutes"]
    assert (minutes["minimum"], minutes["maximum"]) == (1, 1440)
    years = [p["schema"] for p in api.get("/openapi.json").json()["paths"]["/v1/tariff-schedules/{year}"]["put"]
             ["parameters"] if p["name"] == "year"]
    assert (years[0]["minimum"], years[0]["maximum"]) == (2000, 2099)


def test_every_sum_of_a_frame_at_its_bounds_is_recorded_and_read(api, grenaa):
    """Every line at its largest: the frame, its total and the central model are read back
    exactly (12 lines of 10 000 000 000.00 kr.)."""
    lines = [{"category": category, "amount": "10000000000.00"} for category in COST_CATEGORIES]
    body = frame_body() | {"lines": lines, "budgeted_places": 10_000}
    assert api.put("/v1/facilities/GRENAA-BO/frame-budgets/2099", body).status_code == 201
    frame = api.get("/v1/facilities/GRENAA-BO/frame-budgets/2099").json()
    assert frame["total"] == f"{len(COST_CATEGORIES) * 10_000_000_000}.00"
    assert api.get("/v1/central/2099").status_code == 200


def test_an_import_refuses_a_year_past_2099_naming_the_field(api, grenaa):
    ledger = api.client.app.state.ledger
    line = json.dumps({"command": "frame-budget", "code": "GRENAA-BO", "year": 2100} | frame_body())
    with pytest.raises(ImportFailed) as refused:
        import_lines(ledger, [line], Actor("importer", "admin"))
    assert (refused.value.field, refused.value.rule) == ("year", "invalid_year")
    import_lines(ledger, [line.replace("2100", "2099")], Actor("importer", "admin"))


def test_an_event_stored_with_a_year_before_the_bounds_can_still_be_retracted(api, grenaa):
    """A store written when year 2100 was allowed may hold such an event: its retraction takes
    the target's date and is recorded."""
    ledger = api.client.app.state.ledger
    facility = ledger.facility("GRENAA-BO")
    facility._capacity_changed(meta=Meta(str(uuid.uuid4()), date(2100, 1, 1), "tester"), places=12)
    recorded = ledger._command(lambda: [facility], None)
    retracted = api.post("/v1/retractions", {"event_id": recorded.body["event_id"], "reason": "år 2100"},
                         role="finance")
    assert retracted.status_code == 201, retracted.text
