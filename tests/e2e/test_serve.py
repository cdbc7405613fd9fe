"""The README's path on a real server and a real socket: `ledger token create`, `ledger serve`,
then a facility, a schedule, a frame budget and a move-in, on both stores."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

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
