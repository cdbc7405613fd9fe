"""The README's path on a real server and a real socket: `ledger token create`, `ledger serve`,
then a facility, a schedule, a frame budget and a move-in, on both stores; `--issue-tokens`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.db import api_tokens, make_engine
from tests.factories import facility_body, frame_body, move_in_body, schedule_body

LEDGER = str(Path(sys.executable).with_name("ledger"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_new_user_records_the_first_facts_through_a_real_server(settings, tmp_path):
    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    created = subprocess.run([LEDGER, "token", "create", "--role", "admin", "--name", "first-user"], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    token = created.stdout.strip()
    assert created.stdout.count("\n") == 1 and token.startswith("lt_")
    port = free_port()
    server = subprocess.Popen([LEDGER, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("ledger serve did not come up")
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            assert http.get("/docs").status_code == 200
            assert "/v1/citizens/{ref}/move-in" in http.get("/openapi.json").json()["paths"]
            assert http.post("/v1/facilities", json=facility_body("GRENAA-BO")).status_code == 201
            assert http.put("/v1/tariff-schedules/2026", json=schedule_body()).status_code == 201
            assert http.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", json=frame_body()).status_code == 201
            moved = http.post("/v1/citizens/A/move-in", json=move_in_body("GRENAA-BO"))
            assert moved.status_code == 201 and moved.json()["level"] == 3 and moved.json()["position"] == 4
            assert http.get("/v1/citizens/A").json()["stays"][0]["periods"][0]["service_rate"] == "2000.00"
            assert httpx.get(f"{base}/v1/facilities").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)


def start_serving(env: dict[str, str], directory: Path, *args: str) -> tuple[subprocess.Popen[bytes], str, Path, Path]:
    """`ledger serve` on a free port, its stdout and stderr (the JSON log) in files of their own."""
    port = free_port()
    out, log = directory / f"stdout-{port}.txt", directory / f"stderr-{port}.txt"
    with out.open("wb") as stdout, log.open("wb") as stderr:
        server = subprocess.Popen([LEDGER, "serve", "--port", str(port), *args], env=env, cwd=directory,
                                  stdout=stdout, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                return server, base, out, log
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    pytest.fail(f"ledger serve did not come up: {log.read_text()}")


def test_issue_tokens_gives_one_admin_token_on_stdout_only_on_a_first_run(settings, tmp_path):
    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    server, base, out, log = start_serving(env, tmp_path, "--issue-tokens")
    try:
        (line,) = out.read_text().splitlines()
        assert line.startswith("admin token: lt_"), line
        token = line.removeprefix("admin token: ")
        answer = httpx.get(f"{base}/v1/facilities", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200, answer.text
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert "lt_" not in log.read_text()
    again, base, out, log = start_serving(env, tmp_path, "--issue-tokens")
    try:
        assert httpx.get(f"{base}/v1/facilities", headers={"Authorization": f"Bearer {token}"},
                         timeout=10).status_code == 200
    finally:
        again.terminate()
        again.wait(timeout=10)
    assert out.read_text() == "" and "lt_" not in log.read_text()
    assert "none issued" in log.read_text()
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(api_tokens.c.role, api_tokens.c.name)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("admin", "local-admin")]
