"""How many SQL statements one HTTP move-in costs, counted where the store sees them (SQLite's
own trace; PostgreSQL's wire protocol), the eventsourcing library's included (docs/adr/0028)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from service.api.app import create_app
from service.auth import create_token
from service.db import make_engine, migrate
from service.settings import Settings
from tests.conftest import POSTGRES_URL, _conninfo, require_postgres
from tests.factories import facility_body, move_in_body, schedule_body
from tests.statements import PostgresWire, Statements, sqlite_trace

MOST_STATEMENTS = 8
"""A move-in with an Idempotency-Key, on a warm service (issue 20)."""


@pytest.fixture
def counted(store: str, tmp_path, monkeypatch) -> Iterator[tuple[Settings, Statements]]:  # type: ignore[no-untyped-def]
    """A migrated store whose every statement is counted, and the settings that reach it."""
    if store == "sqlite":
        with sqlite_trace(monkeypatch) as statements:
            yield Settings(database_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}", projector="external"), statements
        return
    require_postgres()
    monkeypatch.setenv("PGSSLMODE", "disable")
    monkeypatch.setenv("PGGSSENCMODE", "disable")
    url = make_url(POSTGRES_URL)
    wire = PostgresWire((url.host or "127.0.0.1", url.port or 5432))
    schema = f"t_{secrets.token_hex(6)}"
    through = url.set(host="127.0.0.1", port=wire.port).render_as_string(hide_password=False)
    try:
        yield Settings(database_url=through, database_schema=schema, projector="external"), wire.statements
        assert not wire.errors, wire.errors
    finally:
        wire.close()
        with psycopg.connect(_conninfo(), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_move_in_costs_at_most_eight_statements(counted: tuple[Settings, Statements]) -> None:
    settings, statements = counted
    migrate(settings)
    engine = make_engine(settings)
    finance, caseworker = create_token(engine, "finance", "finance-1"), create_token(engine, "caseworker", "case-1")
    engine.dispose()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        def post(path: str, body: dict, token: str, method: str = "POST") -> dict:
            response = client.request(method, path, json=body, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
            assert response.status_code == 201, response.text
            return response.json()

        facility = facility_body()["code"]
        post("/v1/facilities", facility_body(facility), finance)
        post("/v1/tariff-schedules/2026", schedule_body(), finance, "PUT")
        post("/v1/citizens/C-WARM/move-in", move_in_body(facility), caseworker)  # the service warmed up
        with statements.during() as seen:
            post("/v1/citizens/C-COUNTED/move-in", move_in_body(facility), caseworker)
    sql = Statements.sql(seen)
    listing = "\n".join(seen)
    print(f"\n{len(sql)} statements, {len(seen)} with transaction control:\n{listing}")
    assert len(sql) <= MOST_STATEMENTS, f"{len(sql)} statements:\n{listing}"
