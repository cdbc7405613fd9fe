"""Corrections: every kind of event can be retracted (or the rule that forbids it is named),
and once retracted the budgets, the central model and the facility read as if it had never
been recorded, while the audit trail keeps both the wrong fact and its retraction."""

from __future__ import annotations

import pytest

from tests.api.test_worked_example import example  # noqa: F401  (the worked example's facts)
from tests.factories import schedule_body
from decimal import Decimal

CORRECTABLE = {
    "CapacityChanged": ("POST", "/v1/facilities/GRENAA-BO/capacity",
                        {"effective_date": "2026-06-01", "places": 12, "reason": "to nye pladser"}, "finance"),
    "FrameBudgetSet": ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026",
                       {"budgeted_places": 10, "planned_occupancy_pct": "90",
                        "lines": [{"category": "nattevagt", "amount": "1.00"}]}, "finance"),
    "BaselineSet": ("PUT", "/v1/facilities/GRENAA-BO/baselines/2026",
                    {"baseline_budget": "4000000.00", "phase_in_pct": "50"}, "finance"),
    "AnnualAccountsRecorded": ("POST", "/v1/facilities/GRENAA-BO/accounts/2026",
                               {"actual_costs": "4100000.00", "reason": "regnskab"}, "finance"),
    "TariffSchedulePublished": ("PUT", "/v1/tariff-schedules/2026", schedule_body(Decimal("1.10")), "finance"),
    "TariffRateRevised": ("POST", "/v1/tariff-schedules/2026/revisions",
                          {"effective_date": "2026-10-15", "level": 1, "daily_rate": "650.00", "reason": "x"}, "finance"),
    "CitizenReassessed": ("POST", "/v1/citizens/B/reassessments",
                          {"effective_date": "2026-10-01", "assessment": {"hours_per_day": "9"}}, "caseworker"),
    "SpecialTariffGranted": ("POST", "/v1/citizens/B/special-tariff",
                             {"effective_date": "2026-11-01", "code": "S1", "daily_rate": "7000.00",
                              "reason": "særlige behov"}, "caseworker"),
    "PayingMunicipalityChanged": ("POST", "/v1/citizens/B/paying-municipality",
                                  {"effective_date": "2026-11-01", "paying_municipality": "707"}, "caseworker"),
    "CitizenMovedOut": ("POST", "/v1/citizens/B/move-out", {"effective_date": "2026-10-10", "kind": "moved"},
                        "caseworker"),
    "CitizenMovedIn": ("POST", "/v1/citizens/C/move-in",
                       {"facility": "GRENAA-BO", "effective_date": "2026-06-01", "paying_municipality": "707",
                        "assessment": {"hours_per_day": "3"}}, "caseworker"),
}


def reads(api) -> dict:  # type: ignore[no-untyped-def]
    budget = api.get("/v1/budgets/GRENAA-BO/2026").json()
    central = api.get("/v1/central/2026").json()
    facility = api.get("/v1/facilities/GRENAA-BO").json()
    return {"months": budget["months"], "totals": budget["totals"], "basistakst": budget["basistakst"],
            "central": central["facilities"], "closed": facility["closed_years"], "places": facility["places"]}


@pytest.mark.parametrize("kind", sorted(CORRECTABLE))
def test_a_retracted_event_stops_counting_and_stays_in_the_trail(api, example, kind):  # noqa: F811
    before = reads(api)
    method, path, body, role = CORRECTABLE[kind]
    recorded = api.as_(role, method, path, json=body)
    assert recorded.status_code == 201, recorded.text
    assert reads(api) != before or kind == "AnnualAccountsRecorded" and reads(api)["closed"] == [2026]
    retraction = api.post("/v1/retractions", {"event_id": recorded.json()["event_id"], "reason": "fejl"},
                          role="caseworker" if role == "caseworker" else "finance")
    assert retraction.status_code == 201, retraction.text
    assert reads(api) == before
    trail = api.get("/v1/audit", params={"after_position": 9}).json()["events"]
    assert [(e["type"], e["retracted"] is not None) for e in trail] == [(kind, True), ("EntryRetracted", False)]


def test_what_cannot_be_retracted_is_refused_with_the_rule(api, example):  # noqa: F811
    trail = {e["type"]: e["event_id"] for e in api.get("/v1/audit").json()["events"]}
    registration = api.post("/v1/retractions", {"event_id": trail["FacilityRegistered"], "reason": "x"}, role="finance")
    assert registration.status_code == 409 and registration.json()["rule"] == "registration_not_retractable"
    first_move_in = api.get("/v1/audit?citizen=A").json()["events"][0]["event_id"]
    move_in = api.post("/v1/retractions", {"event_id": first_move_in, "reason": "x"}, role="caseworker")
    assert move_in.status_code == 409 and move_in.json()["rule"] == "retract_later_events_first"
    assert api.get("/health").json()["position"] == 9
