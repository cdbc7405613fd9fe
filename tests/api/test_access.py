"""Access: one table of every endpoint of the API (its OpenAPI schema, checked complete) × every
role (the `buyer` of Aarhus, 751, among them) × no token × a malformed token × a revoked token
(api.md, Auth); tokens as salted hashes."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.app import create_app
from service.auth import ROLES, authenticate, create_token, revoke_tokens
from service.db import api_tokens
from tests.conftest import Api
from tests.factories import facility_body, frame_body, move_in_body, schedule_body

ADMIN_FINANCE = {"admin", "finance"}
CASE = {"admin", "caseworker"}
EVERYONE = set(ROLES) - {"buyer"}
"""Every role of Norddjurs' own; the `buyer` reads only its own municipality's rows (BUYER_OWN)."""
FINANCE_AUDIT = {"admin", "finance", "auditor"}
BUYER_OWN = FINANCE_AUDIT | {"buyer"}
"""The reads of a buying municipality: finance, auditor, admin and its `buyer` (of 751 here;
tests/api/test_buyers.py proves another municipality's buyer gets 403)."""
PUBLIC = None
"""No token needed: health and metrics (docs/adr/0011)."""

ENDPOINTS: dict[tuple[str, str], tuple[str, set[str] | None, dict | None]] = {
    # (method, OpenAPI path): (a concrete path, the roles admitted, the body)
    ("POST", "/v1/facilities"): ("/v1/facilities", ADMIN_FINANCE, facility_body("OTHER")),
    ("POST", "/v1/facilities/{code}/capacity"): (
        "/v1/facilities/GRENAA-BO/capacity", ADMIN_FINANCE, {"effective_date": "2026-06-01", "places": 11}),
    ("PUT", "/v1/facilities/{code}/frame-budgets/{year}"): (
        "/v1/facilities/GRENAA-BO/frame-budgets/2026", ADMIN_FINANCE, frame_body()),
    ("POST", "/v1/facilities/{code}/accounts/{year}"): (
        "/v1/facilities/GRENAA-BO/accounts/2026", ADMIN_FINANCE, {"actual_costs": "1.00", "reason": "x"}),
    ("PUT", "/v1/facilities/{code}/baselines/{year}"): (
        "/v1/facilities/GRENAA-BO/baselines/2026", ADMIN_FINANCE, {"baseline_budget": "1.00", "phase_in_pct": "50"}),
    ("PUT", "/v1/tariff-schedules/{year}"): ("/v1/tariff-schedules/2026", ADMIN_FINANCE, schedule_body()),
    ("POST", "/v1/tariff-schedules/{year}/revisions"): (
        "/v1/tariff-schedules/2026/revisions", ADMIN_FINANCE,
        {"effective_date": "2026-07-01", "level": 3, "daily_rate": "1.00"}),
    ("POST", "/v1/citizens/{ref}/move-in"): (
        "/v1/citizens/A/move-in", CASE, move_in_body("GRENAA-BO", day="2026-10-01")),
    ("POST", "/v1/citizens/{ref}/reassessments"): (
        "/v1/citizens/A/reassessments", CASE, {"effective_date": "2026-04-01", "assessment": {"hours_per_day": "3"}}),
    ("POST", "/v1/citizens/{ref}/special-tariff"): (
        "/v1/citizens/A/special-tariff", CASE,
        {"effective_date": "2026-04-01", "code": "S1", "daily_rate": "7000.00", "reason": "x"}),
    ("POST", "/v1/citizens/{ref}/paying-municipality"): (
        "/v1/citizens/A/paying-municipality", CASE, {"effective_date": "2026-04-01", "paying_municipality": "751"}),
    ("POST", "/v1/citizens/{ref}/move-out"): (
        "/v1/citizens/A/move-out", CASE, {"effective_date": "2026-08-20", "kind": "moved"}),
    ("POST", "/v1/retractions"): (
        "/v1/retractions", {"admin", "caseworker", "finance"}, {"event_id": "unknown-event", "reason": "x"}),
    ("POST", "/v1/regulation/{year}/what-if"): ("/v1/regulation/2026/what-if", FINANCE_AUDIT, schedule_body()),
    ("POST", "/v1/regulation/{year}/what-if/export"): (
        "/v1/regulation/2026/what-if/export?format=csv", FINANCE_AUDIT, schedule_body()),
    ("GET", "/v1/facilities"): ("/v1/facilities", EVERYONE, None),
    ("GET", "/v1/facilities/{code}"): ("/v1/facilities/GRENAA-BO", EVERYONE, None),
    ("GET", "/v1/facilities/{code}/frame-budgets/{year}"): (
        "/v1/facilities/GRENAA-BO/frame-budgets/2026", EVERYONE, None),
    ("GET", "/v1/tariff-schedules/{year}"): ("/v1/tariff-schedules/2026", EVERYONE, None),
    ("GET", "/v1/citizens/{ref}"): ("/v1/citizens/A", EVERYONE, None),
    ("GET", "/v1/budgets/{code}/{year}"): ("/v1/budgets/GRENAA-BO/2026", EVERYONE, None),
    ("GET", "/v1/budgets/{code}/{year}/{month}/explain"): ("/v1/budgets/GRENAA-BO/2026/3/explain", EVERYONE, None),
    ("GET", "/v1/central/{year}"): ("/v1/central/2026", EVERYONE, None),
    ("GET", "/v1/central/{year}/export"): ("/v1/central/2026/export", EVERYONE, None),
    ("GET", "/v1/audit"): ("/v1/audit", FINANCE_AUDIT, None),
    ("GET", "/v1/audit/citizen-reads"): ("/v1/audit/citizen-reads", {"admin", "auditor"}, None),
    ("GET", "/v1/statements/{municipality}/{year}/{month}"): ("/v1/statements/751/2026/9", BUYER_OWN, None),
    ("GET", "/v1/statements/{municipality}/{year}/{month}/export"): (
        "/v1/statements/751/2026/9/export", BUYER_OWN, None),
    ("GET", "/v1/statements/{municipality}/{year}/{month}/document"): (
        "/v1/statements/751/2026/9/document", BUYER_OWN, None),
    ("GET", "/v1/buyers/{municipality}/citizens"): ("/v1/buyers/751/citizens", BUYER_OWN, None),
    ("GET", "/v1/buyers/{municipality}/citizens/{ref}"): ("/v1/buyers/751/citizens/A", BUYER_OWN, None),
    ("GET", "/v1/regulation/{year}"): ("/v1/regulation/2026", FINANCE_AUDIT, None),
    ("GET", "/v1/regulation/{year}/export"): ("/v1/regulation/2026/export?format=csv", FINANCE_AUDIT, None),
    ("GET", "/health"): ("/health", PUBLIC, None),
    ("GET", "/health/live"): ("/health/live", PUBLIC, None),
    ("GET", "/health/ready"): ("/health/ready", PUBLIC, None),
    ("GET", "/metrics"): ("/metrics", PUBLIC, None),
}
WITHOUT_A_VALID_TOKEN = ["no token", "malformed", "revoked"]


@pytest.fixture
def world(settings, ledger, tokens):
    # this test fails authentication on purpose, far more often than the throttle allows one client
    roomy = settings.model_copy(update={"auth_failure_limit": 10_000})
    with TestClient(create_app(roomy, ledger), raise_server_exceptions=False) as client:
        api = Api(client, tokens)
        api.post("/v1/facilities", facility_body("GRENAA-BO"))
        api.put("/v1/tariff-schedules/2026", schedule_body())
        api.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body())
        api.post("/v1/citizens/A/move-in", move_in_body("GRENAA-BO", payer="751"))
        yield api


def test_the_table_names_every_endpoint_of_the_api(world):
    documented = {(method.upper(), path) for path, item in world.client.app.openapi()["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    missing = documented - set(ENDPOINTS)
    assert not missing, f"add these endpoints to the access table in tests/api/test_access.py: {sorted(missing)}"
    assert not set(ENDPOINTS) - documented, "the table names endpoints the API does not have"


def test_every_endpoint_by_every_role_and_without_a_valid_token(world, ledger):
    revoked = create_token(ledger.engine, "admin", "revoked-admin")
    revoke_tokens(ledger.engine, "revoked-admin")
    principals = {"no token": None, "malformed": "lt_bogus", "revoked": revoked}
    checked = 0
    for (method, _), (path, allowed, body) in ENDPOINTS.items():
        for role in ROLES:
            response = world.as_(role, method, path, json=body)
            if allowed is PUBLIC or role in allowed:
                expected = {200} if method == "GET" or "what-if" in path else None
                assert response.status_code not in (401, 403, 429), (method, path, role, response.text)
                assert expected is None or response.status_code in expected, (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.text)
                assert response.json()["status"] == 403
            checked += 1
        for who in WITHOUT_A_VALID_TOKEN:
            response = world.as_(principals[who], method, path, json=body)
            if allowed is PUBLIC:
                assert response.status_code == 200, (method, path, who)
            else:
                assert response.status_code == 401, (method, path, who, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert response.headers["content-type"] == "application/problem+json"
            checked += 1
    assert checked == len(ENDPOINTS) * (len(ROLES) + len(WITHOUT_A_VALID_TOKEN))


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
