"""The projection as its own process (`ledger project --follow`) beside a service started with
LEDGER_PROJECTOR=external, on both stores: reads wait for it, say so when it lags, and
`ledger rebuild` reproduces exactly the rows it followed."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
from sqlalchemy import select

from service.db import make_engine, rm_facility_years, rm_facts, rm_statement_lines, rm_stays
from tests.e2e.test_serve import LEDGER, free_port
from tests.factories import døgnskema, frame_body, schedule_body


def dump(settings) -> list[tuple]:  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return [tuple(r) for t in (rm_facility_years, rm_facts, rm_statement_lines, rm_stays)
                    for r in connection.execute(select(t).order_by(*t.primary_key.columns))]
    finally:
        engine.dispose()


def wait_until_up(base: str, process: subprocess.Popen) -> None:
    for _ in range(150):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.1)
    raise AssertionError("ledger serve did not come up")


def test_an_external_projector_serves_reads_and_a_rebuild_reproduces_it(settings, tmp_path):
    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema,
                        "LEDGER_PROJECTOR": "external", "LEDGER_READ_WAIT_SECONDS": "1"}
    token = subprocess.run([LEDGER, "token", "create", "--role", "admin", "--name", "e2e"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    port = free_port()
    server = subprocess.Popen([LEDGER, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    follower = subprocess.Popen([LEDGER, "project", "--follow", "--poll", "0.05"], env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=20) as http:
            http.post("/v1/facilities", json={"code": "GRENAA-BO", "name": "Grenaa Bo", "kind": "botilbud",
                                              "area": "Grenaa", "places": 10}).raise_for_status()
            http.put("/v1/tariff-schedules/2026", json=schedule_body()).raise_for_status()
            http.put("/v1/facilities/GRENAA-BO/frame-budgets/2026", json=frame_body()).raise_for_status()
            moved = http.post("/v1/citizens/A/move-in", json={
                "facility": "GRENAA-BO", "effective_date": "2026-03-10", "paying_municipality": "707",
                "assessment": døgnskema(270)})
            position = moved.json()["position"]
            budget = http.get(f"/v1/budgets/GRENAA-BO/2026?as_of_position={position}").json()
            assert budget["months"][2]["activity"] == "44000.00" and budget["basistakst"] == "1000.00"

            follower.send_signal(signal.SIGTERM)
            follower.wait(timeout=20)
            http.post("/v1/citizens/A/move-out", json={"effective_date": "2026-08-20", "kind": "moved"})
            lagging = http.get("/v1/budgets/GRENAA-BO/2026")
            assert lagging.status_code == 503 and lagging.json()["rule"] == "projection_lagging"
            for path in ("/v1/citizens/A", f"/v1/citizens/A?as_of_position={position + 1}"):  # a citizen's too
                lagging = http.get(path)
                assert lagging.status_code == 503 and lagging.json()["rule"] == "projection_lagging", path
            assert http.get(f"/v1/citizens/A?as_of_position={position}").json()["stays"][0]["move_out"] is None
            assert http.get("/health").json()["projections"]["lag"] == 1

            follower = subprocess.Popen([LEDGER, "project", "--follow", "--poll", "0.05"], env=env, cwd=tmp_path,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            deadline = time.monotonic() + 60  # a new process starts, replays the store and catches up
            while (answer := http.get("/v1/budgets/GRENAA-BO/2026")).status_code == 503 \
                    and time.monotonic() < deadline:
                assert answer.json()["rule"] == "projection_lagging"
            budget = answer.json()
            assert budget["totals"]["funded_days"] == 205  # 10 March to 30 September
    finally:
        for process in (server, follower):
            process.terminate()
            process.wait(timeout=20)
    followed = dump(settings)
    subprocess.run([LEDGER, "rebuild"], env=env, cwd=tmp_path, capture_output=True, timeout=120, check=True)
    assert dump(settings) == followed and len(followed) > 6  # two year row versions, facts, stay versions
