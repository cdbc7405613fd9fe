"""Every command of api.md through HTTP, on both stores: bodies, responses and errors."""

from __future__ import annotations

import pytest

from tests.factories import døgnskema, facility_body, frame_body, move_in_body, ref, schedule_body


@pytest.fixture
def grenaa(api) -> str:
    code = "GRENAA-BO"
    assert api.post("/v1/facilities", facility_body(code), role="finance").status_code == 201
    assert api.put("/v1/tariff-schedules/2026", schedule_body(), role="finance").status_code == 201
    return code


def test_register_facility_returns_event_position_and_recorded_time(api):
    response = api.post("/v1/facilities", facility_body("GRENAA-BO"), role="finance")
    assert response.status_code == 201
    body = response.json()
    assert body["position"] == 1 and body["event_ids"] == [body["event_id"]]
    assert body["recorded_at"].endswith("+00:00")
    listing = api.get("/v1/facilities", role="caseworker").json()["facilities"]
    assert [(f["code"], f["places"], f["kind"], f["area"]) for f in listing] == [("GRENAA-BO", 10, "botilbud", "Grenaa")]
    assert api.get("/v1/facilities/GRENAA-BO", role="auditor").json()["name"] == "Grenaa Bo"


def test_a_facility_code_is_unique(api):
    api.post("/v1/facilities", facility_body("X1"))
    response = api.post("/v1/facilities", facility_body("X1"))
    assert response.status_code == 409
    assert response.json()["rule"] == "facility_code_taken"
    assert response.headers["content-type"] == "application/problem+json"


def test_capacity_change_and_unknown_facility_is_404(api, grenaa):
    response = api.post(f"/v1/facilities/{grenaa}/capacity",
                        {"effective_date": "2026-06-01", "places": 12, "reason": "new wing"}, role="finance")
    assert response.status_code == 201
    assert api.get(f"/v1/facilities/{grenaa}").json()["capacity_changes"][0]["places"] == 12
    missing = api.post("/v1/facilities/NOPE/capacity", {"effective_date": "2026-06-01", "places": 12}, role="finance")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_frame_budget_put_and_read_with_basistakst(api, grenaa):
    response = api.put(f"/v1/facilities/{grenaa}/frame-budgets/2026", frame_body(), role="finance")
    assert response.status_code == 201
    frame = api.get(f"/v1/facilities/{grenaa}/frame-budgets/2026", role="caseworker").json()
    assert frame["total"] == "3650000.00" and frame["basistakst"] == "1000.00"
    assert frame["monthly"][0] == "304166.67" and frame["monthly"][11] == "304166.63"
    assert frame["lines"][0] == {"category": "ledelse_administration", "amount": "1200000.00"}
    assert api.get(f"/v1/facilities/{grenaa}/frame-budgets/2027").status_code == 404


def test_negative_frame_lines_are_refused_except_regulation(api, grenaa):
    body = frame_body()
    body["lines"][0]["amount"] = "-1.00"
    response = api.put(f"/v1/facilities/{grenaa}/frame-budgets/2026", body, role="finance")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "lines[0].amount", "message": "must be 0 or more, got -1.00"}]
    body["lines"][0] = {"category": "regulation", "amount": "-1.00"}
    assert api.put(f"/v1/facilities/{grenaa}/frame-budgets/2026", body, role="finance").status_code == 201


def test_accounts_and_baseline(api, grenaa):
    assert api.post(f"/v1/facilities/{grenaa}/accounts/2026", {"actual_costs": "4000000.00", "reason": "regnskab"},
                    role="finance").status_code == 201
    assert api.get(f"/v1/facilities/{grenaa}").json()["closed_years"] == [2026]
    again = api.post(f"/v1/facilities/{grenaa}/accounts/2026", {"actual_costs": "4100000.00"}, role="finance")
    assert again.status_code == 409 and again.json()["rule"] == "accounts_correction_needs_reason"
    assert api.put(f"/v1/facilities/{grenaa}/baselines/2026", {"baseline_budget": "3900000.00", "phase_in_pct": "50"},
                   role="finance").status_code == 201


def test_schedule_publication_revision_and_read(api, grenaa):
    response = api.post("/v1/tariff-schedules/2026/revisions",
                        {"effective_date": "2026-07-01", "level": 3, "daily_rate": "2100.00", "reason": "KL-aftale"},
                        role="finance")
    assert response.status_code == 201
    schedule = api.get("/v1/tariff-schedules/2026?on=2026-07-01", role="caseworker").json()
    level3 = schedule["levels"][2]
    assert (level3["published_rate"], level3["daily_rate"], level3["min_hours"]) == ("2000.00", "2100.00", "4.00")
    assert schedule["revisions"][0]["effective_date"] == "2026-07-01"
    assert api.get("/v1/tariff-schedules/2026?on=2026-06-30").json()["levels"][2]["daily_rate"] == "2000.00"
    assert api.get("/v1/tariff-schedules/2031").status_code == 404


def test_a_schedule_with_a_gap_is_refused_naming_the_field(api):
    body = schedule_body()
    body["levels"][4]["min_hours"] = "8.5"
    response = api.put("/v1/tariff-schedules/2026", body, role="finance")
    assert response.status_code == 422
    problem = response.json()
    assert problem["rule"] == "levels_gap" and problem["errors"][0]["field"] == "levels[level=5].min_hours"


def test_move_in_classifies_the_døgnskema(api, grenaa):
    body = move_in_body(grenaa) | {"assessment": døgnskema(270), "case_ref": "27.10.08-P20-1-26"}
    response = api.post("/v1/citizens/A/move-in", body, role="caseworker")
    assert response.status_code == 201
    assert (response.json()["hours_per_day"], response.json()["level"]) == ("4.50", 3)
    citizen = api.get("/v1/citizens/A", role="caseworker").json()
    stay = citizen["stays"][0]
    assert (stay["facility"], stay["move_in"], stay["open"]) == (grenaa, "2026-03-10", True)
    assert stay["periods"][0] | {} == stay["periods"][0]
    assert (stay["periods"][0]["level"], stay["periods"][0]["service_rate"]) == (3, "2000.00")
    assert citizen["events"][0]["type"] == "CitizenMovedIn"
    assert citizen["events"][0]["actor"] == "caseworker-tester"
    assert citizen["events"][0]["case_ref"] == "27.10.08-P20-1-26"


def test_the_whole_stay_through_http(api, grenaa):
    assert api.post("/v1/citizens/A/move-in", move_in_body(grenaa), role="caseworker").status_code == 201
    reassessed = api.post("/v1/citizens/A/reassessments",
                          {"effective_date": "2026-05-16", "assessment": {"hours_per_day": 6.5}}, role="caseworker")
    assert reassessed.status_code == 201 and reassessed.json()["level"] == 4
    assert api.post("/v1/citizens/A/paying-municipality", {"effective_date": "2026-06-01", "paying_municipality": "751"},
                    role="caseworker").status_code == 201
    granted = api.post("/v1/citizens/A/special-tariff",
                       {"effective_date": "2026-07-01", "code": "S1", "daily_rate": "7000.00", "reason": "behov"},
                       role="caseworker")
    assert granted.status_code == 201
    out = api.post("/v1/citizens/A/move-out", {"effective_date": "2026-08-20", "kind": "moved"}, role="caseworker")
    assert out.status_code == 201
    stay = api.get("/v1/citizens/A").json()["stays"][0]
    assert (stay["move_out"], stay["move_out_kind"], stay["open"]) == ("2026-08-20", "moved", False)
    assert [(p["from"], p["to"], p["level"], p["special_tariff"], p["service_rate"], p["paying_municipality"])
            for p in stay["periods"]] == [
        ("2026-03-10", "2026-05-15", 3, None, "2000.00", "707"),
        ("2026-05-16", "2026-05-31", 4, None, "2700.00", "707"),
        ("2026-06-01", "2026-06-30", 4, None, "2700.00", "751"),
        ("2026-07-01", "2026-08-20", 4, "S1", "7000.00", "751"),
    ]


def test_move_in_above_level_8_with_a_special_tariff_in_the_same_request(api, grenaa):
    refused = api.post("/v1/citizens/B/move-in", move_in_body(grenaa, hours="19"), role="caseworker")
    assert refused.status_code == 409 and refused.json()["rule"] == "level_8_needs_special_tariff"
    body = move_in_body(grenaa, hours="19", special_tariff={"code": "S2", "daily_rate": "9000.00"}, reason="behov")
    response = api.post("/v1/citizens/B/move-in", body, role="caseworker")
    assert response.status_code == 201
    assert (response.json()["level"], response.json()["special_tariff"], len(response.json()["event_ids"])) == (None, "S2", 2)


def test_conflicts_are_409_naming_the_rule(api, grenaa):
    api.post("/v1/citizens/A/move-in", move_in_body(grenaa), role="caseworker")
    twice = api.post("/v1/citizens/A/move-in", move_in_body(grenaa, day="2026-04-01"), role="caseworker")
    assert twice.status_code == 409 and twice.json()["rule"] == "open_stay_exists"
    early = api.post("/v1/citizens/A/reassessments", {"effective_date": "2026-03-01", "assessment": {"hours_per_day": "3"}},
                     role="caseworker")
    assert early.status_code == 409 and early.json()["rule"] == "outside_stay"
    no_schedule = api.post("/v1/citizens/A/reassessments",
                           {"effective_date": "2027-02-01", "assessment": {"hours_per_day": "3"}}, role="caseworker")
    assert no_schedule.status_code == 409 and no_schedule.json()["rule"] == "no_tariff_schedule"
    unknown = api.post(f"/v1/citizens/{ref()}/move-in", move_in_body("NOWHERE"), role="caseworker")
    assert unknown.status_code == 409 and unknown.json()["rule"] == "unknown_facility"
    assert unknown.json()["errors"][0]["field"] == "facility"
    nobody = api.post("/v1/citizens/NOBODY/move-out", {"effective_date": "2026-08-20", "kind": "moved"}, role="caseworker")
    assert nobody.status_code == 404


@pytest.mark.parametrize("change,field", [
    ({"surprise": 1}, "surprise"),
    ({"paying_municipality": "75"}, "paying_municipality"),
    ({"effective_date": "2026-13-01"}, "effective_date"),
    ({"assessment": {"hours_per_day": "4.555"}}, "assessment.hours_per_day"),
    ({"assessment": {"entries": [{"theme": "egenomsorg", "slot": "morning", "kind": "direct", "minutes": 30, "x": 1}]}},
     "assessment.entries[0].x"),
    ({"reason": "CPR 010190-1234"}, "reason"),
    ({"case_ref": "0101901234"}, "case_ref"),
])
def test_invalid_move_ins_are_422_naming_the_field(api, grenaa, change, field):
    response = api.post("/v1/citizens/C/move-in", move_in_body(grenaa) | change, role="caseworker")
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert api.get("/health").json()["position"] == 2


def test_cpr_shaped_citizen_refs_are_refused(api, grenaa):
    for bad in ("0101901234", "010190-1234"):
        response = api.post(f"/v1/citizens/{bad}/move-in", move_in_body(grenaa), role="caseworker")
        assert response.status_code == 422 and response.json()["rule"] == "cpr_number_refused"


def test_money_must_be_a_decimal_string(api, grenaa):
    body = frame_body()
    body["lines"][0]["amount"] = 1200000.5
    response = api.put(f"/v1/facilities/{grenaa}/frame-budgets/2026", body, role="finance")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "lines[0].amount"


def test_malformed_json_is_422_not_500(api):
    response = api.post("/v1/facilities", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["status"] == 422


def test_oversized_bodies_get_413(api):
    response = api.post("/v1/facilities", content=b"x" * 2_000_000, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_idempotency_key_replays_and_refuses_another_body(api, grenaa):
    headers = {"Idempotency-Key": "k-1"}
    first = api.post("/v1/citizens/A/move-in", move_in_body(grenaa), role="caseworker", headers=headers)
    again = api.post("/v1/citizens/A/move-in", move_in_body(grenaa), role="caseworker", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    other = api.post("/v1/citizens/A/move-in", move_in_body(grenaa, day="2026-03-11"), role="caseworker", headers=headers)
    assert other.status_code == 409 and other.json()["rule"] == "idempotency_key_reused"
    assert api.get("/health").json()["position"] == 3


def test_retractions_by_role(api, grenaa):
    moved = api.post("/v1/citizens/A/move-in", move_in_body(grenaa), role="caseworker").json()
    by_finance = api.post("/v1/retractions", {"event_id": moved["event_id"], "reason": "wrong"}, role="finance")
    assert by_finance.status_code == 403
    by_auditor = api.post("/v1/retractions", {"event_id": moved["event_id"], "reason": "wrong"}, role="auditor")
    assert by_auditor.status_code == 403
    retracted = api.post("/v1/retractions", {"event_id": moved["event_id"], "reason": "wrong citizen"}, role="caseworker")
    assert retracted.status_code == 201
    citizen = api.get("/v1/citizens/A").json()
    assert citizen["stays"] == []
    assert citizen["events"][0]["retracted"]["reason"] == "wrong citizen"
    assert citizen["events"][1]["type"] == "EntryRetracted"
    again = api.post("/v1/retractions", {"event_id": retracted.json()["event_id"], "reason": "undo"}, role="caseworker")
    assert again.status_code == 409 and again.json()["rule"] == "retraction_cannot_be_retracted"
    missing = api.post("/v1/retractions", {"event_id": "no-such-event", "reason": "x"}, role="caseworker")
    assert missing.status_code == 404
    no_reason = api.post("/v1/retractions", {"event_id": moved["event_id"]}, role="caseworker")
    assert no_reason.status_code == 422


def test_finance_retracts_schedule_revisions(api, grenaa):
    revision = api.post("/v1/tariff-schedules/2026/revisions",
                        {"effective_date": "2026-07-01", "level": 3, "daily_rate": "2100.00"}, role="finance").json()
    assert api.post("/v1/retractions", {"event_id": revision["event_id"], "reason": "x"}, role="caseworker").status_code == 403
    assert api.post("/v1/retractions", {"event_id": revision["event_id"], "reason": "typo"}, role="finance").status_code == 201
    assert api.get("/v1/tariff-schedules/2026?on=2026-08-01").json()["levels"][2]["daily_rate"] == "2000.00"


def test_reads_as_of_a_position_and_an_instant(api, grenaa):
    first = api.post("/v1/citizens/A/move-in", move_in_body(grenaa), role="caseworker").json()
    api.post("/v1/citizens/A/reassessments", {"effective_date": "2026-05-16", "assessment": {"hours_per_day": "6.5"}},
             role="caseworker")
    then = api.get(f"/v1/citizens/A?as_of_position={first['position']}").json()
    assert [p["level"] for p in then["stays"][0]["periods"]] == [3]
    now = api.get("/v1/citizens/A").json()
    assert [p["level"] for p in now["stays"][0]["periods"]] == [3, 4]
    at_instant = api.get("/v1/citizens/A", params={"as_of": first["recorded_at"]}).json()
    assert [p["level"] for p in at_instant["stays"][0]["periods"]] == [3]
    assert api.get("/v1/citizens/A?as_of_position=1").status_code == 404
    assert api.get("/v1/facilities?as_of_position=0").json() == {"facilities": []}
    assert api.get("/v1/citizens/A?as_of_position=-1").status_code == 422
    assert api.get("/v1/citizens/A?as_of_position=99999999999999999999").status_code == 422
    assert api.get("/v1/citizens/A?as_of=yesterday").status_code == 422
    assert api.get("/v1/citizens/A?as_of=2026-01-01T00:00:00").status_code == 422  # no offset
