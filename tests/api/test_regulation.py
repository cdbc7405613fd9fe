"""Closed years, the regulation of 2026 into 2028 and the what-if replay, on the worked
example (examples.md), checked by hand:

As of position 9, GRENAA-BO's 286 present days in 2026 are charged basistakst 1 000.00 and
service rates of 532 100.00 (A: 22 × 2 000 + 30 × 3 400 + 15 × 3 400 + 16 × 2 700 + 30 × 2 700
+ 31 × 2 700 + 20 × 2 700 = 458 900.00; B: 122 × 600 = 73 200.00): revenue 818 100.00. The
cost basis is the frame 3 650 000.00 + activity 642 800.00 = 4 292 800.00; 5 % of it is
214 640.00.
"""

from __future__ import annotations

import pytest

from tests.api.test_worked_example import example  # noqa: F401
from tests.factories import schedule_body
from decimal import Decimal


def close(api, costs: str):  # type: ignore[no-untyped-def]
    response = api.post("/v1/facilities/GRENAA-BO/accounts/2026", {"actual_costs": costs, "reason": "årsregnskab"},
                        role="finance")
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("costs,result,carry_over,to_tariff", [
    ("600000.00", "218100.00", "214640.00", "3460.00"),         # surplus above the limit
    ("900000.00", "-81900.00", "-81900.00", "0.00"),            # within ± 5 %: all carried over
    ("4000000.00", "-3181900.00", "-214640.00", "-2967260.00"),  # deficit below the limit
])
def test_regulation_of_a_closed_year_limits_the_carry_over_both_ways(api, example, costs, result, carry_over,  # noqa: F811
                                                                    to_tariff):
    assert api.get("/v1/regulation/2026", role="auditor").json()["facilities"] == []  # not closed yet
    close(api, costs)
    (row,) = api.get("/v1/regulation/2026", role="finance").json()["facilities"]
    assert (row["facility"], row["revenue"], row["cost_basis"], row["actual_costs"]) == \
        ("GRENAA-BO", "818100.00", "4292800.00", costs)
    assert (row["result"], row["carry_over"], row["to_tariff"]) == (result, carry_over, to_tariff)
    assert (row["target_year"], row["post_closing_adjustments"], row["applied"]) == (2028, "0.00", False)
    assert row["regulation_line"] == str(-Decimal(to_tariff)) if to_tariff != "0.00" else "0.00"


def test_a_late_retroactive_reassessment_shows_as_a_post_closing_adjustment(api, example):  # noqa: F811
    closing = close(api, "600000.00")
    late = api.post("/v1/citizens/B/reassessments", {"effective_date": "2026-10-01", "assessment": {"hours_per_day": "3"},
                                                     "reason": "sen revurdering"}, role="caseworker").json()
    (row,) = api.get("/v1/regulation/2026").json()["facilities"]
    # B at level 2 from 1 October: 92 days × (1 250 - 600) = 59 800.00 more revenue and activity
    assert (row["revenue"], row["cost_basis"], row["result"]) == ("877900.00", "4352600.00", "277900.00")
    assert (row["carry_over"], row["to_tariff"]) == ("217630.00", "60270.00")
    assert (row["post_closing_adjustments"], row["result_at_closing"]) == ("59800.00", "218100.00")
    assert row["closed_at_position"] == closing["position"]
    then = api.get("/v1/regulation/2026", params={"as_of_position": closing["position"]}).json()["facilities"][0]
    assert then["post_closing_adjustments"] == "0.00" and then["to_tariff"] == "3460.00"
    flagged = {e["position"]: e["post_closing"] for e in api.get("/v1/audit").json()["events"]}
    assert flagged[late["position"]] == [{"facility": "GRENAA-BO", "year": 2026}]
    assert flagged[9] == [] and flagged[closing["position"]] == []


def test_the_frame_budget_of_the_target_year_shows_whether_the_regulation_is_applied(api, example):  # noqa: F811
    close(api, "600000.00")
    frame = {"budgeted_places": 10, "planned_occupancy_pct": "100", "reason": "Budget 2028",
             "lines": [{"category": "ledelse_administration", "amount": "1200000.00"}]}
    api.put("/v1/facilities/GRENAA-BO/frame-budgets/2028", frame, role="finance")
    regulation = api.get("/v1/facilities/GRENAA-BO/frame-budgets/2028").json()["regulation"]
    assert (regulation["from_year"], regulation["to_tariff"], regulation["regulation_line"]) == \
        (2026, "3460.00", "-3460.00")
    assert regulation["applied"] is False and regulation["applied_line"] is None
    frame["lines"].append({"category": "regulation", "amount": "-3460.00"})
    api.put("/v1/facilities/GRENAA-BO/frame-budgets/2028", frame, role="finance")
    assert api.get("/v1/facilities/GRENAA-BO/frame-budgets/2028").json()["regulation"]["applied"] is True
    assert api.get("/v1/regulation/2026").json()["facilities"][0]["applied"] is True
    assert api.get("/v1/facilities/GRENAA-BO/frame-budgets/2026").json()["regulation"] is None


def test_what_if_with_the_schedule_itself_changes_nothing_and_records_nothing(api, example):  # noqa: F811
    replay = api.post("/v1/regulation/2026/what-if", schedule_body(), role="finance").json()
    assert replay["facilities"] == [{"facility": "GRENAA-BO", "actual": "818100.00", "what_if": "818100.00",
                                     "difference": "0.00", "name": "Grenaa Bo"}]
    assert replay["totals"] == {"actual": "818100.00", "what_if": "818100.00", "difference": "0.00"}
    assert {r["paying_municipality"]: r["actual"] for r in replay["paying_municipalities"]} == \
        {"707": "622900.00", "751": "195200.00"}  # 164 + 122 present days
    assert all(r["difference"] == "0.00" for r in replay["paying_municipalities"])
    assert api.get("/health").json()["position"] == 9


def test_what_if_with_rates_ten_percent_higher(api, example):  # noqa: F811
    replay = api.post("/v1/regulation/2026/what-if?as_of_position=9", schedule_body(Decimal("1.10")),
                      role="auditor").json()
    assert replay["facilities"][0]["difference"] == "53210.00"  # 10 % of 532 100.00
    assert {r["paying_municipality"]: r["difference"] for r in replay["paying_municipalities"]} == \
        {"707": "45890.00", "751": "7320.00"}
    bad = schedule_body()
    bad["levels"][1]["min_hours"] = "3"
    refused = api.post("/v1/regulation/2026/what-if", bad, role="finance")
    assert refused.status_code == 422 and refused.json()["rule"] == "levels_gap"
    assert api.post("/v1/regulation/2026/what-if", schedule_body(), role="caseworker").status_code == 403


def test_what_if_of_later_years_within_and_beyond_the_horizon(api, example):  # noqa: F811
    """As of position 9 the horizon is 2027 (its schedule, rates × 1.03, within the cap); 2028
    has no schedule and no frame, so it is beyond the horizon (read from the open tails) and
    its days are charged 0.00. A moved out in 2026; B stays on level 1, paid by 751, all year:
    365 days of 2027 charged 618.00 (no frame: basistakst 0.00), 366 days of 2028 charged 0.00,
    and the draft (the 2026 schedule) prices level 1 at 600.00."""
    within = api.post("/v1/regulation/2027/what-if?as_of_position=9", schedule_body(), role="auditor").json()
    assert within["facilities"] == [{"facility": "GRENAA-BO", "actual": "225570.00", "what_if": "219000.00",
                                     "difference": "-6570.00", "name": "Grenaa Bo"}]
    beyond = api.post("/v1/regulation/2028/what-if?as_of_position=9", schedule_body(), role="auditor").json()
    assert beyond["facilities"] == [{"facility": "GRENAA-BO", "actual": "0.00", "what_if": "219600.00",
                                     "difference": "219600.00", "name": "Grenaa Bo"}]
    for replay in (within, beyond):
        assert [(r["paying_municipality"], r["what_if"]) for r in replay["paying_municipalities"]] == \
            [("751", replay["totals"]["what_if"])]
    assert api.get("/health").json()["position"] == 9


def test_a_new_frame_for_a_closed_year_is_flagged_and_adjusts_the_result(api, example):  # noqa: F811
    close(api, "600000.00")
    frame = {"budgeted_places": 10, "planned_occupancy_pct": "100", "reason": "tillæg",
             "lines": [{"category": "ledelse_administration", "amount": "1300000.00"},
                       {"category": "bygninger_drift", "amount": "800000.00"},
                       {"category": "nattevagt", "amount": "1650000.00"}]}
    changed = api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", frame, role="finance").json()
    flagged = {e["position"]: e["post_closing"] for e in api.get("/v1/audit").json()["events"]}
    assert flagged[changed["position"]] == [{"facility": "GRENAA-BO", "year": 2026}]
    row = api.get("/v1/regulation/2026").json()["facilities"][0]
    # basistakst 3 750 000 / 3 650 = 1 027.40: revenue + 286 × 27.40 = 7 836.40
    assert row["post_closing_adjustments"] == "7836.40"


def test_numbers_too_large_are_refused_not_failed(api, example):  # noqa: F811
    draft = schedule_body()
    draft["levels"][0]["min_hours"] = "1e400"
    assert api.post("/v1/regulation/2026/what-if", draft).status_code == 422
    moved = api.post("/v1/citizens/C/move-in", {"facility": "GRENAA-BO", "effective_date": "2026-03-01",
                                                "paying_municipality": "707", "assessment": {"hours_per_day": "1e30"}},
                     role="caseworker")
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["field"] == "assessment.hours_per_day"  # hours per day are at most 24
