"""Fixtures: the same suite on SQLite and PostgreSQL through one parametrised `settings`.

PostgreSQL comes from LEDGER_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
each test gets a schema of its own, dropped afterwards. Where PostgreSQL is unreachable its
tests are skipped with a loud line, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from service.api.app import create_app
from service.auth import ROLES, create_token
from service.db import migrate
from service.ledger import BudgetLedger
from service.settings import Settings

POSTGRES_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_reachable: bool | None = None


def postgres_reachable() -> bool:
    global _reachable
    if _reachable is None:
        try:
            psycopg.connect(_conninfo(), connect_timeout=3).close()
            _reachable = True
        except psycopg.Error:
            _reachable = False
    return _reachable


def _conninfo() -> str:
    url = make_url(POSTGRES_URL)
    return f"host={url.host or '127.0.0.1'} port={url.port or 5432} user={url.username or 'postgres'} dbname={url.database or 'postgres'}" + (
        f" password={url.password}" if url.password else "")


def require_postgres() -> None:
    if postgres_reachable():
        return
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: under CI=true the PostgreSQL tests must run", pytrace=False)
    print(f"\n!!! SKIPPING POSTGRESQL TESTS: {message} !!!")
    pytest.skip(message)


TEST_POOLS = {"pool_size": 2, "pool_max_overflow": 3}
"""Each pool of a test opens at most 5 PostgreSQL connections, and the library's pools (which open
their whole size as they start) open 2: two workers, the `ledger` processes their tests start
(`tests/e2e/server.py`) and every ledger and projector a test makes stay within the server's 100
connections."""


def make_settings(store: str, tmp_path) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    if store == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}")
        return
    require_postgres()
    schema = f"t_{secrets.token_hex(6)}"
    yield Settings(database_url=POSTGRES_URL, database_schema=schema, **TEST_POOLS)
    with psycopg.connect(_conninfo(), autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(store: str, tmp_path) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    yield from make_settings(store, tmp_path)


@pytest.fixture
def ledger(settings: Settings) -> Iterator[BudgetLedger]:
    migrate(settings)
    app = BudgetLedger(settings)
    yield app
    app.close()


@pytest.fixture
def tokens(ledger: BudgetLedger) -> dict[str, str]:
    return {role: create_token(ledger.engine, role, f"{role}-tester", BUYER_MUNICIPALITY if role == "buyer" else None)
            for role in ROLES}


BUYER_MUNICIPALITY = "751"
"""The paying municipality of the `buyer` token of the `tokens` fixture (Aarhus)."""


class Api:
    """A test client that speaks as a role."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def as_(self, role: str | None, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        headers = dict(kwargs.pop("headers", {}) or {})
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(role, role)}"
        return self.client.request(method, path, headers=headers, **kwargs)

    def post(self, path: str, json=None, role: str = "admin", **kw):  # type: ignore[no-untyped-def]
        return self.as_(role, "POST", path, json=json, **kw)

    def put(self, path: str, json=None, role: str = "admin", **kw):  # type: ignore[no-untyped-def]
        return self.as_(role, "PUT", path, json=json, **kw)

    def get(self, path: str, role: str = "admin", **kw):  # type: ignore[no-untyped-def]
        return self.as_(role, "GET", path, **kw)


@pytest.fixture
def api(settings: Settings, ledger: BudgetLedger, tokens: dict[str, str]) -> Iterator[Api]:
    with TestClient(create_app(settings, ledger), raise_server_exceptions=False) as client:
        yield Api(client, tokens)
