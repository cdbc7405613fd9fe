"""The regulation page in a real headless Chromium against `ledger demo` (2025 closed for its
12 facilities): the chart has a bar per facility, the totals row is the API's `totals`, and
the CSV the page downloads is the API's export byte for byte; nothing leaves the service."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator

import httpx
import pytest

from service.ui.formatting import kroner
from tests.e2e.browser import DemoServer, demo_server, logged_in_page, require_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_chromium()
    yield from demo_server(tmp_path_factory.mktemp("regulation-ui"))


@pytest.fixture
def finance(server: DemoServer) -> Iterator[Any]:
    yield from logged_in_page(server, "finance")


def test_the_regulation_page_charts_every_facility_totals_them_and_downloads_the_apis_csv(finance, server, tmp_path):
    headers = {"Authorization": f"Bearer {server.tokens['finance']}"}
    body = httpx.get(f"{server.base}/v1/regulation/2025", headers=headers, timeout=30).json()
    finance.goto(f"{server.base}/ui/efterregulering?year=2025")
    assert finance.locator("#regulation-chart svg g.bar").count() == len(body["facilities"]) == 12
    footer = finance.locator("#regulation tfoot").inner_text()
    for field in ("revenue", "result", "carry_over", "to_tariff"):
        assert kroner(body["totals"][field]) in footer, field
    with finance.expect_download() as started:
        finance.click("text=CSV")
    target = tmp_path / started.value.suggested_filename
    started.value.save_as(target)
    assert target.name == "efterregulering-2025.csv"
    api = httpx.get(f"{server.base}/v1/regulation/2025/export?format=csv", headers=headers, timeout=30).content
    assert target.read_bytes() == api
    rows = list(csv.DictReader(io.StringIO(api.decode("utf-8-sig")), delimiter=";"))
    assert rows[-1]["Tilbud"] == "I alt" and len(rows) == 13
