"""Operations of a real `ledger serve` on a real socket, on both stores (docs/adr/0011): its log is
JSON lines with request ids and never carries a citizen's data; `ledger token revoke` shuts a
token out of the running server; failed authentications are throttled per client address;
SIGTERM refuses new connections, lets the commands in flight finish and be answered, and exits 0."""

from __future__ import annotations

import json
import re
import socket
import signal
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
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


GUESSER = "203.0.113.9"
"""Another client, behind the trusted loopback proxy (X-Forwarded-For): it guesses tokens."""
IN_FLIGHT = 3


def test_a_real_server_logs_no_citizen_data_throttles_guessing_and_drains_on_sigterm(settings: Settings, tmp_path):
    admin = token(settings, "admin", "ops-admin")
    leaving = token(settings, "caseworker", "leaving-caseworker")
    sent: list[httpx.Request] = []
    server = Server(settings, tmp_path, LEDGER_AUTH_FAILURE_LIMIT="2")
    try:
        metrics = drive_commands_reads_and_failures(server, settings, tmp_path, admin, leaving, sent)
        answers, code, seconds = drain_on_sigterm(server, settings, admin)
    finally:
        if server.process.poll() is None:
            server.kill()
    assert code == 0, server.log()[-2000:]
    assert answers == {f"SIGTERM-{n}": 201 for n in range(IN_FLIGHT)}  # answered, and recorded:
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(ledger_entries)).scalar()
    finally:
        engine.dispose()
    assert stored == 3 + 2 * len(REFS) + 1 + IN_FLIGHT  # setup, move-ins and reassessments, a retraction
    log = server.log()
    assert '"Shutting down"' in log
    found = sum(log.count(ref) for ref in REFS)
    assert found == 0, [line for line in log.splitlines() if any(r in line for r in REFS)]
    assert not any(ref in metrics for ref in REFS)
    requests = check_log_lines(log, sent)
    record(f"logs-{settings.store}", requests_logged=len(requests), citizen_refs_in_log=found)
    record(f"graceful-shutdown-{settings.store}", commands_in_flight_at_sigterm=IN_FLIGHT,
           answered=sum(s == 201 for s in answers.values()), exit_code=code, seconds_to_exit=round(seconds, 2))


def drive_commands_reads_and_failures(server: Server, settings: Settings, cwd: Path, admin: str, leaving: str,
                                      sent: list[httpx.Request]) -> str:
    """Commands and reads naming the distinctive references in paths, queries, bodies and
    headers; refusals; a revoked token; a guesser throttled. Returns a scrape of /metrics."""
    hooks = {"request": [sent.append]}
    with server.client(admin) as http, server.client(leaving) as case:
        http.event_hooks = case.event_hooks = hooks
        setup_facility(http)
        for number, ref in enumerate(REFS):
            key = {"Idempotency-Key": f"move-in-{ref}"}
            body = move_in_body("GRENAA-BO", payer="751", reason=f"flytter {ref}")
            moved = case.post(f"/v1/citizens/{ref}/move-in", json=body, headers=key)
            assert moved.status_code == 201, moved.text
            assert case.post(f"/v1/citizens/{ref}/move-in", json=body, headers=key).status_code == 200
            assert case.post(f"/v1/citizens/{ref}/move-in", json=move_in_body("GRENAA-BO")).status_code == 409
            reassessed = case.post(f"/v1/citizens/{ref}/reassessments", json={
                "effective_date": "2026-05-01", "assessment": {"hours_per_day": "7"}, "case_ref": ref})
            assert reassessed.status_code == 201
            assert case.post(f"/v1/citizens/{ref}/move-out", json={"effective_date": "2026-09-30", "kind": ref}
                             ).status_code == 422
            if number == 0:
                assert http.post("/v1/retractions", json={"event_id": reassessed.json()["event_id"],
                                                          "reason": f"wrong citizen {ref}"}).status_code == 201
            position = moved.json()["position"]
            assert http.get(f"/v1/citizens/{ref}", params={"as_of_position": position}).status_code == 200
            assert http.get("/v1/audit", params={"citizen": ref}).status_code == 200
            assert http.get("/v1/audit/citizen-reads", params={"citizen": ref}).status_code == 200
            assert http.get(f"/v1/nowhere/{ref}").status_code == 404
            assert http.get("/v1/facilities", headers={"X-Request-ID": ref}).status_code == 200
        assert http.get(f"/v1/citizens/{REFS[0]}-UNKNOWN").status_code == 404
        assert http.get("/v1/statements/751/2026/6").status_code == 200
        given = http.get("/v1/central/2026", headers={"X-Request-ID": GIVEN_REQUEST_ID})
        assert given.headers["x-request-id"] == GIVEN_REQUEST_ID
        assert case.get("/v1/facilities").status_code == 200
        revoked = ledger(settings, cwd, "token", "revoke", "--name", "leaving-caseworker")
        assert "revoked 1 token(s)" in revoked.stderr
        assert case.get("/v1/facilities").status_code == 401  # the revoked token, on the running server
        guess = {"Authorization": f"Bearer lt_{'0' * 32}_{REFS[1]}-guess-guess", "X-Forwarded-For": GUESSER}
        statuses = [http.get(f"/v1/citizens/{REFS[1]}", headers=guess).status_code for _ in range(4)]
        assert statuses == [401, 401, 429, 429]
        throttled = http.get("/v1/facilities", headers={"X-Forwarded-For": GUESSER})  # its good token too
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
        assert throttled.json()["rule"] == "auth_throttled"
        assert http.get(f"/v1/citizens/{REFS[1]}").status_code == 200  # this client, one failure, is not throttled
    return httpx.get(f"{server.base}/metrics").text


def drain_on_sigterm(server: Server, settings: Settings, admin: str) -> tuple[dict[str, int], int, float]:
    """Commands in flight (held by another writer's lock) when SIGTERM comes: new connections are
    refused at once; the commands finish and are answered once the lock goes; the process exits.
    Returns the answers, the exit code and the seconds from SIGTERM to exit."""
    answers: dict[str, int] = {}

    def move_in(ref: str) -> None:
        with server.client(admin) as own:  # a connection of its own, opened before the SIGTERM
            answers[ref] = own.post(f"/v1/citizens/{ref}/move-in", json=move_in_body("GRENAA-BO")).status_code

    threads = [threading.Thread(target=move_in, args=(f"SIGTERM-{n}",)) for n in range(IN_FLIGHT)]
    with write_lock(settings):
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while in_progress(server.base) < IN_FLIGHT + 1:  # + the scrape itself
            assert time.monotonic() < deadline, "the commands did not reach the server"
            time.sleep(0.02)
        server.process.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        while not refused(server.port):
            assert time.monotonic() - stopped_at < 5, "new connections are still accepted"
            time.sleep(0.02)
        assert answers == {} and server.process.poll() is None  # still draining, nothing answered yet
    code = server.process.wait(timeout=30)
    seconds = time.monotonic() - stopped_at
    for thread in threads:
        thread.join(10)
    return answers, code, seconds


def check_log_lines(log: str, sent: list[httpx.Request]) -> list[dict]:
    """Every line JSON (but the start banner); one line per request with its request id, route
    template, status, duration, actor and role. Returns the request lines."""
    lines = [line for line in log.splitlines() if line.strip()]
    human = [line for line in lines if not line.startswith("{")]
    assert all(line.startswith("Budget ledger on") for line in human), human  # the start banner, for people
    records = [json.loads(line) for line in lines if line.startswith("{")]
    requests = [r for r in records if r["logger"] == "ledger.access"]
    driven = [r for r in requests if r["route"] not in ("/health/live", "/metrics") and r["client"] != GUESSER
              and not (r["route"] == "/v1/citizens/{ref}/move-in" and r["actor"] == "ops-admin")]  # the in-flight
    assert len(driven) + 5 == len(sent)  # the guesser's five requests are logged under its address
    assert sum(r["client"] == GUESSER for r in requests) == 5
    assert [(r["method"], r["status"]) for r in driven][:3] == [("POST", 201), ("PUT", 201), ("PUT", 201)]
    for r in requests:
        assert re.fullmatch(r"[0-9a-f]{32}", r["request_id"]), r
        assert r["route"] == "unmatched" or r["route"].startswith(("/v1/", "/health", "/metrics")), r
        assert isinstance(r["duration_ms"], float) and r["client"] in ("127.0.0.1", GUESSER)
        assert set(r) >= {"timestamp", "level", "method", "route", "status", "duration_ms", "actor", "role"}
    assert {r["route"] for r in requests} >= {"/v1/citizens/{ref}/move-in", "/v1/citizens/{ref}", "unmatched"}
    assert any(r["request_id"] == GIVEN_REQUEST_ID and r["route"] == "/v1/central/{year}" for r in requests)
    assert {(r["actor"], r["role"]) for r in requests if r["status"] in (200, 201)} >= {
        ("ops-admin", "admin"), ("leaving-caseworker", "caseworker")}
    assert sum(r["status"] == 429 for r in requests) == 3
    assert sum(r["route"] == "/v1/citizens/{ref}/move-in" and r["status"] == 201 and r["actor"] == "ops-admin"
               for r in requests) == IN_FLIGHT  # the drained commands, logged
    return requests


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
