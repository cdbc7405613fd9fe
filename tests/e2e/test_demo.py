"""`ledger demo` (the README's first command, without starting the server) on both stores: a
municipality shaped like the source documents, with figures that hang together; the token it
prints for Aarhus (751) sees exactly Aarhus' citizens during Aarhus' periods (issue 23's "done
when", by the checks of tests/api/test_buyer_scope_properties.py) and nothing of another."""

from __future__ import annotations

import os
import subprocess

import pytest

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.ledger import BudgetLedger, Timeline
from service.projection import ProjectionStatus
from service.verify import verify_store
from tests.api.test_buyer_scope_properties import check_scope
from tests.conftest import Api
from tests.e2e.test_serve import LEDGER


def test_the_demo_municipality_loads_once_and_reads_as_a_whole(settings, tmp_path):
    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema,
                        "COLUMNS": "200"}
    first = subprocess.run([LEDGER, "demo", "--no-serve"], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr
    assert "loaded" in first.stderr and first.stderr.count("token: lt_") == 5
    printed = {line.split("token: ")[0].split()[-1]: line.split("token: ")[1].strip()
               for line in first.stderr.splitlines() if "token: " in line}
    finance = printed["finance"]
    again = subprocess.run([LEDGER, "demo", "--no-serve"], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and "not loaded again" in again.stderr
    ledger = BudgetLedger(settings)
    status = ProjectionStatus(settings)
    try:
        assert verify_store(ledger).intact
        assert status.reached() == Timeline(ledger.engine).max_position()  # projected before it serves
        with TestClient(create_app(settings, ledger)) as client:
            headers = {"Authorization": f"Bearer {finance}"}
            central = client.get("/v1/central/2026", headers=headers).json()
            assert len(central["facilities"]) == 12 and central["totals"]["places"] == 154
            assert {f["area"] for f in central["facilities"]} == {"Grenaa", "Auning", "Ørum", "Allingåbro"}
            assert 20 <= float(central["totals"]["sold_share_pct"]) <= 35
            assert central["totals"]["baseline"] is not None and central["warnings"] == []
            assert len(client.get("/v1/regulation/2025", headers=headers).json()["facilities"]) == 12
            assert client.get("/v1/statements/751/2026/3", headers=headers).json()["lines"]
            corrected = client.get("/v1/audit?citizen=BOR-0003", headers=headers).json()["events"]
            assert any(e["type"] == "EntryRetracted" for e in corrected)
            # Two ways to the same figures on real data: the read models and the events themselves.
            regulation = {r["facility"]: r["revenue"]
                          for r in client.get("/v1/regulation/2025", headers=headers).json()["facilities"]}
            draft = client.get("/v1/tariff-schedules/2025", headers=headers).json()
            body = {"levels": [{k: level[k] for k in ("level", "min_hours", "max_hours")} |
                               {"daily_rate": level["published_rate"]} for level in draft["levels"]],
                    "special_tariffs": draft["special_tariffs"], "hourly_rate": draft["hourly_rate"],
                    "runoff_months": draft["runoff_months"]}
            replay = client.post("/v1/regulation/2025/what-if", json=body, headers=headers).json()
            assert {r["facility"]: r["actual"] for r in replay["facilities"]} == regulation
            budgets = [client.get(f"/v1/budgets/{f['facility']}/2026", headers=headers).json()["totals"]["total"]
                       for f in central["facilities"]]
            assert sum(map(float, budgets)) == pytest.approx(float(central["totals"]["total"]), abs=0.001)
            aarhus_sees_only_its_own(Api(client, printed), Timeline(ledger.engine).max_position())
    finally:
        status.close()
        ledger.close()


def aarhus_sees_only_its_own(api: Api, position: int) -> None:
    """The demo's buyer token (Aarhus, 751), now and as of half-way: its citizens list, each
    citizen's support, its statements, their exports and documents hold exactly the citizens
    and days Aarhus pays for (the truth: each citizen's own read by admin); another
    municipality's reads are refused."""
    citizens = [f"BOR-{number:04d}" for number in range(1, 400)
                if api.get(f"/v1/citizens/BOR-{number:04d}").status_code == 200]
    assert len(citizens) > 100
    for point in (position, position // 2):
        check_scope(api, citizens, point)
    for path in ("/v1/buyers/730/citizens", "/v1/statements/730/2026/3", "/v1/statements/730/2026/3/document",
                 "/v1/central/2026", "/v1/audit"):
        assert api.get(path, role="buyer").status_code == 403, path
