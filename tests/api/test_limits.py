"""Limits of what one request may ask, in process, on both stores (docs/adr/0021): instants and
positions within their bounds, a closed set of metric labels, bodies refused by size whether
declared or chunked and never read before the token is checked, and exports limited per client
and in size."""

from __future__ import annotations

import json
import time

import pytest

from tests.factories import facility_body, frame_body, schedule_body

YEAR_ONE = "0001-01-01T00:00:00+14:00"
"""The reproduction of issue 21: converting it to UTC overflows."""
INSTANT_READS = [
    ("/v1/central/2026", "as_of"), ("/v1/central/2026/export", "as_of"), ("/v1/facilities", "as_of"),
    ("/v1/facilities/F-1", "as_of"), ("/v1/budgets/F-1/2026", "as_of"), ("/v1/statements/751/2026/1", "as_of"),
    ("/v1/statements/751/2026/1/export", "as_of"), ("/v1/audit", "as_of"), ("/v1/audit", "from"),
    ("/v1/audit", "to"), ("/v1/budgets/F-1/2026/all/explain", "from"), ("/v1/budgets/F-1/2026/all/explain", "to"),
]


def problem_of(response, status: int, rule: str, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["rule"] == rule and body["type"] == f"urn:ledger:problem:{rule}", body
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field], body
    return body


@pytest.fixture
def facility(api):  # type: ignore[no-untyped-def]
    assert api.post("/v1/facilities", json=facility_body("F-1")).status_code == 201
    assert api.put("/v1/tariff-schedules/2026", json=schedule_body()).status_code == 201
    assert api.put("/v1/facilities/F-1/frame-budgets/2026", json=frame_body()).status_code == 201
    return "F-1"


@pytest.mark.parametrize(("path", "field"), INSTANT_READS)
def test_an_instant_in_year_one_is_422_naming_the_field_not_a_500(api, facility, path, field):
    problem_of(api.get(path, params={field: YEAR_ONE}), 422, "instant_out_of_range", field)


@pytest.mark.parametrize("instant", ["1999-12-31T23:59:59+00:00", "2000-01-01T00:30:00+01:00"])
def test_an_instant_before_2000_utc_is_refused_and_2000_itself_is_read(api, facility, instant):
    problem_of(api.get("/v1/central/2026", params={"as_of": instant}), 422, "instant_out_of_range", "as_of")
    read = api.get("/v1/central/2026", params={"as_of": "2000-01-01T00:00:00+00:00"})
    assert read.status_code == 200 and read.json()["as_of_position"] == 0


@pytest.mark.parametrize(("path", "field"), INSTANT_READS)
def test_an_instant_in_the_far_future_or_without_an_offset_is_422_with_a_rule(api, facility, path, field):
    problem_of(api.get(path, params={field: "9999-12-31T23:59:59-14:00"}), 422, "instant_in_future", field)
    problem_of(api.get(path, params={field: "2026-01-01T00:00:00"}), 422, "instant_without_offset", field)


@pytest.mark.parametrize(("path", "field"), INSTANT_READS)
def test_an_instant_written_as_a_number_is_422_naming_the_field(api, facility, path, field):
    """RFC 3339 only: a Unix time (which pydantic's lax parsing would take) is no instant here."""
    for number in ("1701011234", "1701011234.5", "-1"):
        problem_of(api.get(path, params={field: number}), 422, "invalid_input", field)


def test_an_instant_and_a_position_together_are_refused_naming_the_field(api, facility):
    both = api.get("/v1/central/2026", params={"as_of": "2026-01-01T00:00:00Z", "as_of_position": 1})
    problem_of(both, 422, "one_point_only", "as_of")
    explained = api.get("/v1/budgets/F-1/2026/all/explain", params={"to": "2026-01-01T00:00:00Z", "to_position": 1})
    problem_of(explained, 422, "one_point_only", "to")


@pytest.mark.parametrize(("path", "field"), [
    ("/v1/central/2026", "as_of_position"), ("/v1/facilities", "as_of_position"),
    ("/v1/budgets/F-1/2026/all/explain", "to_position"), ("/v1/budgets/F-1/2026/all/explain", "from_position"),
    ("/v1/audit", "after_position"), ("/v1/audit", "as_of_position"),
])
def test_no_position_is_a_500(api, facility, path, field):
    for value in ("-1", "9223372036854775807", "9223372036854775808", "1e3", "", "0x10"):
        answer = api.get(path, params={field: value})
        assert answer.status_code < 500, (field, value, answer.text)
        assert answer.status_code in (200, 409, 422), (field, value, answer.text)
    assert api.get(path, params={field: "9223372036854775807"}).status_code in (200, 409, 422)
    beyond = api.get("/v1/central/2026", params={"as_of_position": 2**63 - 1})
    problem_of(beyond, 409, "position_not_reached", "as_of_position")


def test_from_after_to_is_422_naming_from(api, facility):
    explained = api.get("/v1/budgets/F-1/2026/all/explain", params={"from_position": 3, "to_position": 1})
    problem_of(explained, 422, "from_after_to", "from")


def test_made_up_methods_fold_into_one_label_and_do_not_grow_metrics(api):
    client = api.client
    client.get("/metrics")
    client.request("BREW", "/v1/facilities")
    client.request("BREW", "/no/such/path")
    before = client.get("/metrics").text
    for i in range(300):
        client.request(f"M{i}THOD", "/v1/facilities")
        client.request(f"M{i}THOD", f"/no/such/path/{i}")
    after = client.get("/metrics").text
    assert len(after.splitlines()) == len(before.splitlines())
    assert 'method="other"' in after and "BREW" not in after and "M1THOD" not in after
    assert 'route="unmatched"' in after and "/no/such" not in after


def chunks(size: int, piece: int = 64 * 1024, start: bytes = b""):  # type: ignore[no-untyped-def]
    """A body of `size` bytes without Content-Length (sent chunked): `start`, then blanks."""
    yield start
    sent = len(start)
    while sent < size:
        yield b" " * min(piece, size - sent)
        sent += piece


def test_a_chunked_body_over_the_limit_is_413_body_too_large_and_nothing_is_stored(api, settings):
    valid = json.dumps(facility_body("F-CHUNKED")).encode()  # followed by blanks: still valid JSON
    refused = api.post("/v1/facilities", content=chunks(settings.max_body_bytes + 1, start=valid),
                       headers={"Content-Type": "application/json"})
    problem_of(refused, 413, "body_too_large")
    declared = api.post("/v1/facilities", content=b" " * (settings.max_body_bytes + 1),
                        headers={"Content-Type": "application/json"})
    problem_of(declared, 413, "body_too_large")
    small = api.post("/v1/facilities", content=chunks(200, 10), headers={"Content-Type": "application/json"})
    problem_of(small, 422, "invalid_input")  # under the limit: read and parsed (blank is not JSON)
    assert api.get("/v1/audit").json()["events"] == [] and api.get("/v1/facilities/F-CHUNKED").status_code == 404
    fits = api.post("/v1/facilities", content=chunks(10_000, 1000, start=valid),
                    headers={"Content-Type": "application/json"})
    assert fits.status_code == 201, fits.text  # the same body within the limit is recorded


@pytest.mark.parametrize(("token", "rule"), [(None, "token_required"), ("not-a-token", "token_invalid"),
                                             ("lt_0123456789abcdef0123456789abcdef_guessguessguessguess", "token_invalid")])
def test_a_write_without_a_valid_token_is_401_whatever_its_body(api, settings, token, rule):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    bodies = [chunks(settings.max_body_bytes * 3), b"{not json", b" " * (settings.max_body_bytes + 1),
              b'{"code": "X", "unknown": 1}']
    for body in bodies:
        answer = api.client.post("/v1/facilities", content=body, headers=headers)
        body_json = problem_of(answer, 401, rule)
        assert answer.headers["www-authenticate"] == "Bearer" and "errors" not in body_json
    answer = api.client.put("/v1/tariff-schedules/2026", content=b"[" * 1000, headers=headers)
    assert answer.status_code == 401


def test_a_write_with_a_token_of_a_throttled_address_is_429_before_its_body_is_read(settings, ledger, tokens):
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    bad = {"Authorization": "Bearer lt_0123456789abcdef0123456789abcdef_guessguessguessguess"}
    app = create_app(settings.model_copy(update={"auth_failure_limit": 2}), ledger)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert [client.post("/v1/facilities", content=b"{", headers=bad).status_code for _ in range(2)] == [401, 401]
        throttled = client.post("/v1/facilities", content=b"{" * 5_000_000,
                                headers={"Authorization": f"Bearer {tokens['admin']}"})
        problem_of(throttled, 429, "auth_throttled")
        assert client.post("/v1/facilities", content=b"{").status_code == 401  # no token: no attempt, as before


def test_a_client_over_its_export_limit_gets_429_with_retry_after_and_others_do_not(settings, ledger, tokens):
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    finance = {"Authorization": f"Bearer {tokens['finance']}"}
    app = create_app(settings.model_copy(update={"export_concurrency_per_client": 2}), ledger)
    with TestClient(app, raise_server_exceptions=False) as client:
        slots = app.state.export_slots
        slots.take("admin-tester")
        assert client.get("/v1/central/2026/export", headers=admin).status_code == 200  # the second of two
        slots.take("admin-tester")  # two exports of this client are being made
        busy = client.get("/v1/central/2026/export", headers=admin)
        problem_of(busy, 429, "export_busy")
        assert busy.headers["retry-after"] == "2"
        assert client.get("/v1/statements/751/2026/1/export", headers=admin).status_code == 429
        assert client.get("/v1/central/2026", headers=admin).status_code == 200  # reads are not exports
        assert client.get("/v1/central/2026/export", headers=finance).status_code == 200  # another client
        assert client.get("/v1/central/2026/export").status_code == 401  # no token: 401 first
        slots.give_back("admin-tester")
        assert client.get("/v1/central/2026/export", headers=admin).status_code == 200
        assert dict(slots.running) == {"admin-tester": 1}  # every finished export gave its slot back


def test_an_export_over_the_row_limit_is_422_export_too_large_and_the_json_read_answers(settings, ledger, tokens):
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    app = create_app(settings.model_copy(update={"export_max_rows": 2}), ledger)
    with TestClient(app, raise_server_exceptions=False) as client:
        for code in ("F-1", "F-2"):
            assert client.post("/v1/facilities", json=facility_body(code), headers=admin).status_code == 201
        for fmt in ("xlsx", "csv"):
            refused = client.get("/v1/central/2026/export", params={"format": fmt}, headers=admin)
            problem_of(refused, 422, "export_too_large", "format")
        assert client.get("/v1/central/2026/export", params={"as_of_position": 1}, headers=admin).status_code == 200
        assert len(client.get("/v1/central/2026", headers=admin).json()["facilities"]) == 2
        assert app.state.export_slots.running == {}


@pytest.mark.parametrize("instant", [YEAR_ONE, "1999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-14:00",
                                     "2026-01-01T00:00:00"])
def test_ledger_export_refuses_an_instant_out_of_bounds_naming_the_option(settings, ledger, tmp_path, monkeypatch,
                                                                         instant):
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.chdir(tmp_path)
    env = {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    done = CliRunner().invoke(app, ["export", "central", "--year", "2026", "--as-of", instant], env=env)
    assert done.exit_code == 2 and "--as-of" in done.output, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    assert list(tmp_path.iterdir()) in ([], [tmp_path / "ledger.sqlite"])


def test_a_server_warning_repeated_a_thousand_times_is_logged_once_per_window_with_the_count():
    import logging
    import time

    from service.api.observability import RepeatFilter

    def record(name: str, message: str, level: int = logging.ERROR) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, message, None, None)

    repeats = RepeatFilter(seconds=0.2)
    accept = "socket.accept() out of system resource"
    assert [repeats.filter(record("asyncio", accept)) for _ in range(1000)].count(True) == 1
    assert repeats.filter(record("uvicorn.error", "Invalid HTTP request received.", logging.WARNING))
    assert all(repeats.filter(record("ledger.access", "request", logging.INFO)) for _ in range(100))
    assert all(repeats.filter(record("ledger.api", "unhandled failure")) for _ in range(100))  # ours: all of them
    time.sleep(0.25)
    next_one = record("asyncio", accept)
    assert repeats.filter(next_one) and next_one.suppressed == 999


def test_one_clients_burst_of_waiting_reads_is_bounded_and_another_client_reads_meanwhile(settings, ledger, tokens):
    """Twenty reads at once as of a position not yet recorded, from one token: only the client's
    in-flight limit of them wait (then 409); the rest are refused at once with 429, and another
    token's read is answered while they wait."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from service.api.app import create_app

    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    finance = {"Authorization": f"Bearer {tokens['finance']}"}
    app = create_app(settings.model_copy(update={"requests_in_flight_per_client": 4,
                                                 "future_position_wait_seconds": 2.0}), ledger)
    with TestClient(app, raise_server_exceptions=False) as client:
        beyond = client.get("/v1/central/2026", headers=admin).json()["as_of_position"] + 1000
        with ThreadPoolExecutor(max_workers=21) as pool:
            burst = [pool.submit(client.get, "/v1/central/2026", params={"as_of_position": beyond}, headers=admin)
                     for _ in range(20)]
            time.sleep(0.5)
            other = pool.submit(client.get, "/v1/central/2026", headers=finance).result(timeout=10)
            answers = [future.result(timeout=30) for future in burst]
        assert other.status_code == 200, other.text
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses.count(409) <= 4 and statuses.count(429) >= 16, statuses
        refused = next(answer for answer in answers if answer.status_code == 429)
        problem_of(refused, 429, "too_many_in_flight")
        assert refused.headers["retry-after"] == "1"
        assert client.get("/health/live").status_code == 200
