"""examples.md as an acceptance test through HTTP, on both stores, at positions 8 and 9."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import døgnskema, frame_body, schedule_body

ACTIVITY_AT_8 = {3: "44000.00", 4: "60000.00", 5: "73200.00", 6: "81000.00", 7: "83700.00", 8: "83700.00",
                 9: "99000.00", 10: "18600.00", 11: "18000.00", 12: "18600.00"}


@pytest.fixture
def example(api):
    """The facts of examples.md, recorded in order; returns the responses by position."""
    steps = [
        lambda: api.post("/v1/facilities", {"code": "GRENAA-BO", "name": "Grenaa Bo", "kind": "botilbud",
                                            "area": "Grenaa", "places": 10}, role="finance"),
        lambda: api.put("/v1/tariff-schedules/2026", schedule_body(), role="finance"),
        lambda: api.put("/v1/tariff-schedules/2027", schedule_body(Decimal("1.03"), "432.60"), role="finance"),
        lambda: api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body(), role="finance"),
        lambda: api.post("/v1/citizens/A/move-in", {"facility": "GRENAA-BO", "effective_date": "2026-03-10",
                                                    "paying_municipality": "707", "assessment": døgnskema(270)},
                         role="caseworker"),
        lambda: api.post("/v1/citizens/A/reassessments", {"effective_date": "2026-05-16",
                                                          "assessment": {"hours_per_day": "6.5"}}, role="caseworker"),
        lambda: api.post("/v1/citizens/A/move-out", {"effective_date": "2026-08-20", "kind": "moved"}, role="caseworker"),
        lambda: api.post("/v1/citizens/B/move-in", {"facility": "GRENAA-BO", "effective_date": "2026-09-01",
                                                    "paying_municipality": "751",
                                                    "assessment": {"hours_per_day": "1.5"}}, role="caseworker"),
        lambda: api.post("/v1/citizens/A/reassessments", {"effective_date": "2026-04-01",
                                                          "assessment": {"hours_per_day": "8.25"},
                                                          "reason": "Revurdering efter møde"}, role="caseworker"),
    ]
    responses = {}
    for position, step in enumerate(steps, start=1):
        response = step()
        assert response.status_code == 201, response.text
        assert response.json()["position"] == position
        responses[position] = response.json()
    assert (responses[5]["level"], responses[6]["level"], responses[8]["level"], responses[9]["level"]) == (3, 4, 1, 5)
    return responses


def test_activity_budget_as_of_positions_8_and_9(api, example):
    at_8 = api.get("/v1/budgets/GRENAA-BO/2026?as_of_position=8", role="caseworker").json()
    at_9 = api.get("/v1/budgets/GRENAA-BO/2026?as_of_position=9", role="caseworker").json()
    for month, amount in ACTIVITY_AT_8.items():
        assert at_8["months"][month - 1]["activity"] == amount, month
    assert (at_9["months"][3]["activity"], at_9["months"][4]["activity"]) == ("102000.00", "94200.00")
    assert at_8["months"][0]["activity"] == "0.00" and at_8["months"][1]["activity"] == "0.00"
    assert at_9["basistakst"] == "1000.00"
    assert [m["frame"] for m in at_9["months"]] == ["304166.67"] * 11 + ["304166.63"]
    assert (at_8["totals"]["activity"], at_9["totals"]["activity"]) == ("579800.00", "642800.00")
    assert (at_9["totals"]["present_days"], at_9["totals"]["funded_days"]) == (286, 327)
    assert at_9["totals"]["total"] == "4292800.00"


def test_key_figures_of_the_example(api, example):
    budget = api.get("/v1/budgets/GRENAA-BO/2026?as_of_position=9").json()
    march, april, aug, sep = (budget["months"][i] for i in (2, 3, 7, 8))
    assert march["occupancy_pct"] == "7.1" and (march["present_days"], march["funded_days"]) == (22, 22)
    assert (april["staff_hours"], april["fte"]) == ("242.86", "1.51")
    assert april["total"] == "406166.67"
    assert (aug["present_days"], aug["funded_days"]) == (20, 31)
    assert (sep["present_days"], sep["funded_days"]) == (30, 60)
    assert budget["months"][11]["citizens_by_level"] == {"1": 1}
    assert budget["warnings"] == []


def test_the_latest_read_equals_the_read_as_of_the_last_position(api, example):
    assert api.get("/v1/budgets/GRENAA-BO/2026").json()["months"] == \
        api.get("/v1/budgets/GRENAA-BO/2026?as_of_position=9").json()["months"]


def test_a_read_as_of_a_position_never_changes_after_later_events(api, example):
    before = api.get("/v1/budgets/GRENAA-BO/2026?as_of_position=8").json()
    api.post("/v1/citizens/B/reassessments", {"effective_date": "2026-10-01", "assessment": {"hours_per_day": "3"}},
             role="caseworker")
    api.post("/v1/retractions", {"event_id": example[9]["event_id"], "reason": "wrong date"}, role="caseworker")
    assert api.get("/v1/budgets/GRENAA-BO/2026?as_of_position=8").json() == before
    after = api.get("/v1/budgets/GRENAA-BO/2026").json()
    assert after["months"][3]["activity"] == "60000.00"  # the retraction undid the retroactive level 5
    assert after["months"][9]["activity"] == "38750.00"  # B at level 2 from 1 October: 31 × 1250


def test_a_read_as_of_an_instant_equals_the_read_as_of_its_position(api, example):
    instant = example[8]["recorded_at"]
    by_instant = api.get("/v1/budgets/GRENAA-BO/2026", params={"as_of": instant}).json()
    by_position = api.get("/v1/budgets/GRENAA-BO/2026?as_of_position=8").json()
    assert by_instant["months"] == by_position["months"]


def test_december_run_off_into_2027_at_the_2027_rate(api, example):
    api.post("/v1/citizens/B/move-out", {"effective_date": "2026-12-20", "kind": "deceased"}, role="caseworker")
    budget_2027 = api.get("/v1/budgets/GRENAA-BO/2027").json()
    january = budget_2027["months"][0]
    assert (january["present_days"], january["funded_days"], january["activity"]) == (0, 31, str(31 * Decimal("618.00")))
    assert "no frame budget for 2027: frame and basistakst are 0.00" in budget_2027["warnings"]


def test_central_model_of_the_example_as_of_9(api, example):
    central = api.get("/v1/central/2026?as_of_position=9", role="auditor").json()
    assert central["as_of_position"] == 9
    (row,) = central["facilities"]
    assert (row["facility"], row["places"], row["frame"], row["activity"], row["total"]) == \
        ("GRENAA-BO", 10, "3650000.00", "642800.00", "4292800.00")
    assert (row["present_days"], row["funded_days"], row["sold_days"]) == (286, 327, 122)
    assert row["sold_income"] == "195200.00"
    assert row["citizens_by_level"] == {"1": 1}
    assert row["sold_share_pct"] == "42.7"  # 122 / 286
    assert (row["baseline"], row["difference"], row["phased"]) == (None, None, None)
    assert central["totals"]["sold_income"] == "195200.00" and central["totals"]["total"] == "4292800.00"


def test_central_model_for_a_month_and_as_of_8(api, example):
    april_8 = api.get("/v1/central/2026", params={"month": 4, "as_of_position": 8}).json()["facilities"][0]
    april_9 = api.get("/v1/central/2026", params={"month": 4, "as_of_position": 9}).json()["facilities"][0]
    assert (april_8["total"], april_9["total"]) == ("364166.67", "406166.67")
    assert april_9["citizens_by_level"] == {"5": 1} and april_9["avg_support_hours"] == "8.25"
    september = api.get("/v1/central/2026?month=9").json()["facilities"][0]
    assert (september["sold_days"], september["sold_income"], september["occupancy_pct"]) == (30, "48000.00", "10.0")


def test_central_model_shows_the_phase_in_against_a_baseline(api, example):
    body = {"baseline_budget": "4000000.00", "phase_in_pct": "25"}
    assert api.put("/v1/facilities/GRENAA-BO/baselines/2026", body, role="finance").status_code == 201
    row = api.get("/v1/central/2026").json()["facilities"][0]
    # model 4 292 800.00 - baseline 4 000 000.00 = 292 800.00; phased = 4 000 000 + 25 % of it
    assert (row["baseline"], row["difference"], row["phased"]) == ("4000000.00", "292800.00", "4073200.00")
    assert api.get("/v1/central/2026?as_of_position=9").json()["facilities"][0]["baseline"] is None


def test_frame_budget_read_as_of_any_point(api, example):
    frame = api.get("/v1/facilities/GRENAA-BO/frame-budgets/2026?as_of_position=4").json()
    assert (frame["total"], frame["basistakst"]) == ("3650000.00", "1000.00")
    assert api.get("/v1/facilities/GRENAA-BO/frame-budgets/2026?as_of_position=3").status_code == 404


def test_a_read_names_the_position_it_is_as_of_and_waits_for_it(api, example):
    assert api.get("/v1/budgets/GRENAA-BO/2026").json()["as_of_position"] == 9
    beyond = api.get("/v1/budgets/GRENAA-BO/2026?as_of_position=999999")
    assert beyond.status_code == 409 and beyond.json()["rule"] == "position_not_reached"
    future = api.get("/v1/central/2026", params={"as_of": "2999-01-01T00:00:00+00:00"})
    assert future.status_code == 422
    health = api.get("/health").json()
    assert health["projections"]["position"] == 9 and health["projections"]["lag"] == 0


def test_a_year_beyond_the_projected_horizon_is_computed_from_the_aggregates(api, example):
    budget = api.get("/v1/budgets/GRENAA-BO/2030").json()  # no schedule or frame reaches 2030
    assert budget["totals"]["present_days"] == 365 and budget["totals"]["activity"] == "0.00"
    assert budget["months"][11]["citizens_by_level"] == {"1": 1}
    assert len(budget["warnings"]) == 2


def test_explain_april_between_positions_8_and_9(api, example):
    explained = api.get("/v1/budgets/GRENAA-BO/2026/4/explain?from_position=8&to_position=9", role="auditor").json()
    assert (explained["before"], explained["after"], explained["delta"]) == ("364166.67", "406166.67", "42000.00")
    (change,) = explained["changes"]
    assert (change["position"], change["event_id"], change["delta"]) == (9, example[9]["event_id"], "42000.00")
    assert (change["type"], change["citizen_ref"], change["effective_date"]) == ("CitizenReassessed", "A", "2026-04-01")
    assert (change["actor"], change["reason"], change["recorded_at"]) == \
        ("caseworker-tester", "Revurdering efter møde", example[9]["recorded_at"])


def test_explain_the_whole_year_from_the_start_sums_every_change(api, example):
    explained = api.get("/v1/budgets/GRENAA-BO/2026/all/explain").json()
    assert (explained["before"], explained["after"]) == ("0.00", "4292800.00")
    assert [c["position"] for c in explained["changes"]] == [4, 5, 6, 7, 8, 9]
    assert sum(Decimal(c["delta"]) for c in explained["changes"]) == Decimal("4292800.00")
    assert explained["changes"][0]["type"] == "FrameBudgetSet" and explained["changes"][0]["citizen_ref"] is None


def test_explain_shows_a_retraction_as_its_own_change(api, example):
    retraction = api.post("/v1/retractions", {"event_id": example[9]["event_id"], "reason": "forkert dato"},
                          role="caseworker").json()
    explained = api.get("/v1/budgets/GRENAA-BO/2026/4/explain", params={"from_position": 8}).json()
    assert explained["delta"] == "0.00"
    assert [(c["position"], c["type"], c["delta"]) for c in explained["changes"]] == \
        [(9, "CitizenReassessed", "42000.00"), (retraction["position"], "EntryRetracted", "-42000.00")]
    assert explained["changes"][1]["retracted_event_id"] == example[9]["event_id"]


def test_explain_between_instants_and_bad_points(api, example):
    by_time = api.get("/v1/budgets/GRENAA-BO/2026/4/explain",
                      params={"from": example[8]["recorded_at"], "to": example[9]["recorded_at"]}).json()
    assert by_time["delta"] == "42000.00" and (by_time["from_position"], by_time["to_position"]) == (8, 9)
    backwards = api.get("/v1/budgets/GRENAA-BO/2026/4/explain?from_position=9&to_position=8")
    assert backwards.status_code == 422 and backwards.headers["content-type"] == "application/problem+json"
    assert api.get("/v1/budgets/GRENAA-BO/2026/13/explain").status_code == 422
    assert api.get("/v1/budgets/NOPE/2026/4/explain").status_code == 404


def test_the_audit_trail_lists_every_event_with_its_retraction(api, example):
    retraction = api.post("/v1/retractions", {"event_id": example[9]["event_id"], "reason": "forkert dato"},
                          role="caseworker").json()
    trail = api.get("/v1/audit", role="auditor").json()
    assert [e["position"] for e in trail["events"]] == list(range(1, 11)) and trail["next_after_position"] is None
    ninth, tenth = trail["events"][8], trail["events"][9]
    assert (ninth["type"], ninth["citizen_ref"], ninth["facility"], ninth["effective_date"]) == \
        ("CitizenReassessed", "A", "GRENAA-BO", "2026-04-01")
    assert (ninth["actor"], ninth["reason"], ninth["recorded_at"]) == \
        ("caseworker-tester", "Revurdering efter møde", example[9]["recorded_at"])
    assert ninth["details"]["level"] == 5 and ninth["details"]["hours_per_day"] == "8.25"
    assert ninth["retracted"] == {"by_event_id": retraction["event_id"], "position": 10,
                                  "recorded_at": retraction["recorded_at"], "actor": "caseworker-tester",
                                  "reason": "forkert dato"}
    assert (tenth["type"], tenth["retracts"], tenth["facility"]) == ("EntryRetracted", example[9]["event_id"], "GRENAA-BO")
    as_of_9 = api.get("/v1/audit?as_of_position=9").json()["events"]
    assert len(as_of_9) == 9 and as_of_9[8]["retracted"] is None


def test_the_audit_trail_filters_and_pages(api, example):
    assert [e["position"] for e in api.get("/v1/audit?citizen=B").json()["events"]] == [8]
    assert [e["position"] for e in api.get("/v1/audit?facility=GRENAA-BO").json()["events"]] == [1, 4, 5, 6, 7, 8, 9]
    page = api.get("/v1/audit?limit=4&after_position=2").json()
    assert [e["position"] for e in page["events"]] == [3, 4, 5, 6] and page["next_after_position"] == 6
    window = api.get("/v1/audit", params={"from": example[5]["recorded_at"], "to": example[6]["recorded_at"]}).json()
    assert [e["position"] for e in window["events"]] == [5, 6]
    assert api.get("/v1/audit", role="caseworker").status_code == 403
    assert api.get("/v1/audit?citizen=010101-1234").status_code == 422


def test_reads_of_citizen_rows_are_logged_with_the_reader(api, example):
    api.get("/v1/citizens/A", role="caseworker")
    api.get("/v1/budgets/GRENAA-BO/2026/4/explain?from_position=8&to_position=9", role="finance")
    reads = api.get("/v1/audit/citizen-reads?citizen=A", role="auditor").json()["reads"]
    assert [(r["reader"], r["role"], r["resource"]) for r in reads] == [
        ("caseworker-tester", "caseworker", "/v1/citizens/A"),
        ("finance-tester", "finance", "/v1/budgets/GRENAA-BO/2026/4/explain")]
    assert api.get("/v1/audit/citizen-reads", role="finance").status_code == 403


def test_statement_for_aarhus_in_september(api, example):
    statement = api.get("/v1/statements/751/2026/9?as_of_position=9", role="finance").json()
    (line,) = statement["lines"]
    assert (line["citizen_ref"], line["facility"], line["days"], line["basistakst"], line["amount"]) == \
        ("B", "GRENAA-BO", 30, "1000.00", "48000.00")
    assert line["periods"] == [{"from": "2026-09-01", "to": "2026-09-30", "level": "1", "service_rate": "600.00",
                                "days": 30, "amount": "48000.00"}]
    assert statement["total"] == "48000.00" and statement["now"] is None
    assert api.get("/v1/statements/751/2026/8").json()["lines"] == []
    assert api.get("/v1/statements/707/2026/9").status_code == 422
    assert api.get("/v1/statements/751/2026/9", role="caseworker").status_code == 403


def test_a_sent_statement_is_reproduced_and_a_later_change_shows_as_a_difference(api, example):
    sent = api.get("/v1/statements/751/2026/9", role="finance").json()
    api.post("/v1/citizens/B/reassessments", {"effective_date": "2026-09-16", "assessment": {"hours_per_day": "3"},
                                              "reason": "sen revurdering"}, role="caseworker")
    again = api.get("/v1/statements/751/2026/9", params={"as_of_position": sent["as_of_position"]}).json()
    assert again["lines"] == sent["lines"] and again["total"] == "48000.00"
    # 15 days at level 1 and 15 at level 2: 15 × 1600 + 15 × 2250 = 57 750.00
    assert again["now"]["total"] == "57750.00" and again["now"]["difference"] == "9750.00"
    assert again["now"]["changed_lines"][0]["citizen_ref"] == "B"
    periods = api.get("/v1/statements/751/2026/9").json()["lines"][0]["periods"]
    assert [(p["from"], p["level"], p["days"], p["amount"]) for p in periods] == \
        [("2026-09-01", "1", 15, "24000.00"), ("2026-09-16", "2", 15, "33750.00")]
