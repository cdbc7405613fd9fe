"""Every endpoint × every role, no token and a bad token (api.md, Auth)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from service.auth import authenticate, create_token, revoke_tokens
from service.db import api_tokens
from tests.factories import facility_body, frame_body, move_in_body, schedule_body

WRITE = {
    ("POST", "/v1/facilities"): {"admin", "finance"},
    ("POST", "/v1/facilities/GRENAA-BO/capacity"): {"admin", "finance"},
    ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026"): {"admin", "finance"},
    ("POST", "/v1/facilities/GRENAA-BO/accounts/2026"): {"admin", "finance"},
    ("PUT", "/v1/facilities/GRENAA-BO/baselines/2026"): {"admin", "finance"},
    ("PUT", "/v1/tariff-schedules/2026"): {"admin", "finance"},
    ("POST", "/v1/tariff-schedules/2026/revisions"): {"admin", "finance"},
    ("POST", "/v1/citizens/A/move-in"): {"admin", "caseworker"},
    ("POST", "/v1/citizens/A/reassessments"): {"admin", "caseworker"},
    ("POST", "/v1/citizens/A/special-tariff"): {"admin", "caseworker"},
    ("POST", "/v1/citizens/A/paying-municipality"): {"admin", "caseworker"},
    ("POST", "/v1/citizens/A/move-out"): {"admin", "caseworker"},
    ("POST", "/v1/retractions"): {"admin", "caseworker", "finance"},
}
EVERY_READER = {"admin", "finance", "caseworker", "auditor"}
READ = {
    "/v1/facilities": EVERY_READER, "/v1/facilities/GRENAA-BO": EVERY_READER,
    "/v1/facilities/GRENAA-BO/frame-budgets/2026": EVERY_READER, "/v1/tariff-schedules/2026": EVERY_READER,
    "/v1/citizens/A": EVERY_READER, "/v1/budgets/GRENAA-BO/2026": EVERY_READER, "/v1/central/2026": EVERY_READER,
    "/v1/budgets/GRENAA-BO/2026/3/explain": EVERY_READER,
    "/v1/audit": {"admin", "finance", "auditor"},
    "/v1/statements/751/2026/9": {"admin", "finance", "auditor"},
    "/v1/regulation/2026": {"admin", "finance", "auditor"},
    "/v1/audit/citizen-reads": {"admin", "auditor"},
}
ROLES = ["admin", "finance", "caseworker", "auditor"]


def body_for(method: str, path: str) -> dict:
    return {
        "/v1/facilities": facility_body("OTHER"),
        "/v1/facilities/GRENAA-BO/capacity": {"effective_date": "2026-06-01", "places": 11},
        "/v1/facilities/GRENAA-BO/frame-budgets/2026": frame_body(),
        "/v1/facilities/GRENAA-BO/accounts/2026": {"actual_costs": "1.00", "reason": "x"},
        "/v1/facilities/GRENAA-BO/baselines/2026": {"baseline_budget": "1.00", "phase_in_pct": "50"},
        "/v1/tariff-schedules/2026": schedule_body(),
        "/v1/tariff-schedules/2026/revisions": {"effective_date": "2026-07-01", "level": 3, "daily_rate": "1.00"},
        "/v1/citizens/A/move-in": move_in_body("GRENAA-BO", day="2026-10-01"),
        "/v1/citizens/A/reassessments": {"effective_date": "2026-04-01", "assessment": {"hours_per_day": "3"}},
        "/v1/citizens/A/special-tariff": {"effective_date": "2026-04-01", "code": "S1", "daily_rate": "7000.00",
                                          "reason": "x"},
        "/v1/citizens/A/paying-municipality": {"effective_date": "2026-04-01", "paying_municipality": "751"},
        "/v1/citizens/A/move-out": {"effective_date": "2026-08-20", "kind": "moved"},
        "/v1/retractions": {"event_id": "unknown-event", "reason": "x"},
    }[path]


@pytest.fixture
def world(api):
    api.post("/v1/facilities", facility_body("GRENAA-BO"))
    api.put("/v1/tariff-schedules/2026", schedule_body())
    api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body())
    api.post("/v1/citizens/A/move-in", move_in_body("GRENAA-BO"))
    return api


def test_every_endpoint_by_every_role_and_without_a_valid_token(world, ledger):
    revoked = create_token(ledger.engine, "admin", "revoked-admin")
    revoke_tokens(ledger.engine, "revoked-admin")
    for (method, path), allowed in WRITE.items():
        for role in ROLES:
            response = world.as_(role, method, path, json=body_for(method, path))
            if role in allowed:
                assert response.status_code not in (401, 403), (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.text)
        for token in (None, "lt_bogus", revoked):
            response = world.as_(token, method, path, json=body_for(method, path))
            assert response.status_code == 401, (method, path, token)
            assert response.headers["www-authenticate"] == "Bearer"
    for path, allowed in READ.items():
        for role in ROLES:
            assert world.get(path, role=role).status_code == (200 if role in allowed else 403), (path, role)
        for token in (None, "lt_bogus", revoked):
            assert world.as_(token, "GET", path).status_code == 401
    for role in ROLES:
        replay = world.as_(role, "POST", "/v1/regulation/2026/what-if", json=schedule_body())
        assert replay.status_code == (403 if role == "caseworker" else 200), (role, replay.text)


def test_tokens_are_stored_only_as_salted_hashes(ledger):
    token = create_token(ledger.engine, "caseworker", "jens")
    secret = token.split("_", 2)[2]
    with ledger.engine.connect() as connection:
        row = connection.execute(select(api_tokens)).one()
    assert secret not in (row.token_hash, row.salt) and token not in str(tuple(row))
    assert row.token_hash == hashlib.sha256(f"{row.salt}:{secret}".encode()).hexdigest()
    actor = authenticate(ledger.engine, token)
    assert (actor.name, actor.role) == ("jens", "caseworker")
    assert authenticate(ledger.engine, token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_every_event_records_its_actor(world):
    events = world.get("/v1/citizens/A").json()["events"]
    assert events[0]["actor"] == "admin-tester"


def test_health_needs_no_token(api):
    body = api.as_(None, "GET", "/health").json()
    assert body["live"] and body["ready"] and body["position"] == 0
