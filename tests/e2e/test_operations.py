"""Operations of a real `ledger serve` on a real socket, on both stores (docs/adr/0011): its log is
JSON lines with request ids and never carries a citizen's data; `ledger token revoke` shuts a
token out; failed authentications are throttled; SIGTERM lets the commands in flight finish and
be answered, refuses new connections and exits 0."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from service.db import ledger_entries, make_engine
from service.settings import Settings
from tests.conftest import _conninfo
from tests.e2e.server import Server, ledger, token
from tests.factories import facility_body, frame_body, move_in_body, schedule_body
from tests.figures import record

REFS = ["ZQX-7301-AAA", "ZQX-7302-BBB", "ZQX-7303-CCC"]
"""Distinctive citizen references: none may appear anywhere in the log."""
GIVEN_REQUEST_ID = "5d0c7f0e2b1a4c3d8e9f00112233aabb"


def setup_facility(http: httpx.Client) -> None:
    for method, path, body in (("POST", "/v1/facilities", facility_body("GRENAA-BO")),
                               ("PUT", "/v1/tariff-schedules/2026", schedule_body()),
                               ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body())):
        assert http.request(method, path, json=body).status_code == 201


def test_the_log_is_json_lines_with_request_ids_and_no_citizen_data(settings: Settings, tmp_path):
    admin = token(settings, "admin", "ops-admin")
    leaving = token(settings, "caseworker", "leaving-caseworker")
    sent: list[httpx.Request] = []
    hooks = {"request": [sent.append]}
    with Server(settings, tmp_path, LEDGER_AUTH_FAILURE_LIMIT="3") as server:
        with server.client(admin) as http, server.client(leaving) as case:
            http.event_hooks = case.event_hooks = hooks
            setup_facility(http)
            for number, ref in enumerate(REFS):
                key = {"Idempotency-Key": f"move-in-{ref}"}
                moved = case.post(f"/v1/citizens/{ref}/move-in", json=move_in_body("GRENAA-BO", payer="751", reason=f"flytter {ref}"),
                                  headers=key)
                assert moved.status_code == 201, moved.text
                assert case.post(f"/v1/citizens/{ref}/move-in", json=move_in_body("GRENAA-BO", payer="751", reason=f"flytter {ref}"),
                                 headers=key).status_code == 200
                assert case.post(f"/v1/citizens/{ref}/move-in", json=move_in_body("GRENAA-BO")).status_code == 409
                reassessed = case.post(f"/v1/citizens/{ref}/reassessments", json={
                    "effective_date": "2026-05-01", "assessment": {"hours_per_day": "7"}, "case_ref": ref})
                assert reassessed.status_code == 201
                assert case.post(f"/v1/citizens/{ref}/move-out", json={"effective_date": "2026-09-30", "kind": ref}
                                 ).status_code == 422
                if number == 0:
                    retracted = http.post("/v1/retractions", json={"event_id": reassessed.json()["event_id"],
                                                                   "reason": f"wrong citizen {ref}"})
                    assert retracted.status_code == 201
                assert http.get(f"/v1/citizens/{ref}", params={"as_of_position": moved.json()["position"]}).status_code == 200
                assert http.get("/v1/audit", params={"citizen": ref}).status_code == 200
                assert http.get("/v1/audit/citizen-reads", params={"citizen": ref}).status_code == 200
                assert http.get(f"/v1/nowhere/{ref}").status_code == 404
                assert http.get("/v1/facilities", headers={"X-Request-ID": ref}).status_code == 200
            assert http.get(f"/v1/citizens/{REFS[0]}-UNKNOWN").status_code == 404
            assert http.get("/v1/statements/751/2026/6").status_code == 200
            given = http.get("/v1/central/2026", headers={"X-Request-ID": GIVEN_REQUEST_ID})
            assert given.headers["x-request-id"] == GIVEN_REQUEST_ID
            assert case.get("/v1/facilities").status_code == 200
            revoked = ledger(settings, tmp_path, "token", "revoke", "--name", "leaving-caseworker")
            assert "revoked 1 token(s)" in revoked.stderr
            assert case.get("/v1/facilities").status_code == 401  # the revoked token, on the running server
            with server.client(f"lt_{'0' * 32}_{REFS[1]}-guess-guess") as guessing:
                guessing.event_hooks = hooks
                statuses = [guessing.get(f"/v1/citizens/{REFS[1]}").status_code for _ in range(4)]
            assert statuses == [401, 401, 429, 429]  # 2 failures before: the leaving token's and one guess
            assert http.get(f"/v1/citizens/{REFS[1]}").status_code == 429  # this client address is throttled
            metrics = httpx.get(f"{server.base}/metrics").text
        assert server.terminate() == 0
        log = server.log()
    assert not any(ref in log for ref in REFS), [line for line in log.splitlines() if any(r in line for r in REFS)]
    assert not any(ref in metrics for ref in REFS)
    lines = [line for line in log.splitlines() if line.strip()]
    human = [line for line in lines if not line.startswith("{")]
    assert all(line.startswith("Budget ledger on") for line in human), human  # the start banner, for people
    records = [json.loads(line) for line in lines if line.startswith("{")]
    requests = [r for r in records if r["logger"] == "ledger.access"]
    driven = [r for r in requests if r["route"] not in ("/health/live", "/metrics")]  # less the waits, the scrape
    assert len(driven) == len(sent)
    assert [(r["method"], r["status"]) for r in driven][:3] == [("POST", 201), ("PUT", 201), ("PUT", 201)]
    for r in requests:
        assert re.fullmatch(r"[0-9a-f]{32}", r["request_id"]), r
        assert r["route"] == "unmatched" or r["route"].startswith(("/v1/", "/health", "/metrics")), r
        assert isinstance(r["duration_ms"], float) and r["client"] == "127.0.0.1"
        assert set(r) >= {"timestamp", "level", "method", "route", "status", "duration_ms", "actor", "role"}
    assert {r["route"] for r in requests} >= {"/v1/citizens/{ref}/move-in", "/v1/citizens/{ref}", "unmatched"}
    assert any(r["request_id"] == GIVEN_REQUEST_ID and r["route"] == "/v1/central/{year}" for r in requests)
    assert {(r["actor"], r["role"]) for r in requests if r["status"] in (200, 201)} >= {
        ("ops-admin", "admin"), ("leaving-caseworker", "caseworker")}
    assert sum(r["status"] == 429 for r in requests) == 3
    record(f"logs-{settings.store}", requests_logged=len(requests), log_lines=len(lines),
           citizen_refs_in_log=0)


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Hold the store's write lock from outside, as another writer's long transaction would."""
    if settings.store == "sqlite":
        connection = sqlite3.connect(settings.sqlite_path, isolation_level=None, timeout=10)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    with psycopg.connect(_conninfo()) as connection:
        connection.execute(f'LOCK TABLE "{settings.database_schema}".stored_events IN EXCLUSIVE MODE')
        try:
            yield
        finally:
            connection.rollback()


def in_progress(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=5).text
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name == "ledger_http_requests_in_progress")


def refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


def test_sigterm_finishes_the_commands_in_flight_refuses_new_connections_and_exits_0(settings: Settings, tmp_path):
    admin = token(settings, "admin", "ops-admin")
    in_flight = 3
    answers: dict[str, int] = {}
    server = Server(settings, tmp_path)
    try:
        with server.client(admin) as http:
            setup_facility(http)

        def move_in(ref: str) -> None:
            with server.client(admin) as own:  # a connection of its own, opened before the SIGTERM
                answers[ref] = own.post(f"/v1/citizens/{ref}/move-in", json=move_in_body("GRENAA-BO")).status_code

        threads = [threading.Thread(target=move_in, args=(f"SIGTERM-{n}",)) for n in range(in_flight)]
        with write_lock(settings):
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 10
            while in_progress(server.base) < in_flight + 1:  # + the scrape itself
                assert time.monotonic() < deadline, "the commands did not reach the server"
                time.sleep(0.02)
            server.process.send_signal(15)
            stopped_at = time.monotonic()
            while not refused(server.port):
                assert time.monotonic() - stopped_at < 5, "new connections are still accepted"
                time.sleep(0.02)
            assert answers == {} and server.process.poll() is None  # still draining, nothing answered yet
        code = server.process.wait(timeout=30)
        drained_in = time.monotonic() - stopped_at
    finally:
        if server.process.poll() is None:
            server.kill()
    for thread in threads:
        thread.join(10)
    assert code == 0, server.log()[-2000:]
    assert answers == {f"SIGTERM-{n}": 201 for n in range(in_flight)}
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(ledger_entries)).scalar() == 3 + in_flight
    finally:
        engine.dispose()
    assert '"Shutting down"' in server.log()
    record(f"graceful-shutdown-{settings.store}", commands_in_flight_at_sigterm=in_flight,
           answered=sum(s == 201 for s in answers.values()), exit_code=code, seconds_to_exit=round(drained_in, 2))
