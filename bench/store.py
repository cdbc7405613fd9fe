"""A fresh store for one benchmark run, and a raw one beside it for the library's baselines.

SQLite: files in a new temporary directory (removed afterwards unless kept). PostgreSQL: new
schemas in the database of `BENCH_POSTGRES_URL` (or `LEDGER_TEST_POSTGRES_URL`, default
postgresql://postgres@127.0.0.1:5432/test), dropped afterwards unless kept. The product is
pointed at its store with `LEDGER_DATABASE_URL` and `LEDGER_DATABASE_SCHEMA`, as a user would.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
LEDGER = str(Path(sys.executable).with_name("ledger"))
"""The product's command, from the virtual environment that runs the benchmark."""


def conninfo(url: str = POSTGRES_URL) -> str:
    parsed = make_url(url)
    info = (f"host={parsed.host or '127.0.0.1'} port={parsed.port or 5432} user={parsed.username or 'postgres'} "
            f"dbname={parsed.database or 'postgres'}")
    return info + (f" password={parsed.password}" if parsed.password else "")


@dataclass(frozen=True)
class Database:
    """One store: where it is, for the product (environment) and for the library (env)."""

    kind: str
    url: str
    schema: str
    directory: Path

    @property
    def env(self) -> dict[str, str]:
        """The process environment of a `ledger` command on this store."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        return base | {"LEDGER_DATABASE_URL": self.url, "LEDGER_DATABASE_SCHEMA": self.schema}

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's configuration of an application on this store, as the
        library's own defaults have it (its recorders, its tables)."""
        if self.kind == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": make_url(self.url).database or "",
                    "SQLITE_LOCK_TIMEOUT": "10", "CREATE_TABLE": "y"}
        parsed = make_url(self.url)
        return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": parsed.database or "postgres",
                "POSTGRES_HOST": parsed.host or "127.0.0.1", "POSTGRES_PORT": str(parsed.port or 5432),
                "POSTGRES_USER": parsed.username or "postgres", "POSTGRES_PASSWORD": parsed.password or "",
                "POSTGRES_SCHEMA": self.schema, "POSTGRES_POOL_SIZE": "10", "CREATE_TABLE": "y"}

    def size_bytes(self) -> int:
        """The store's size on disk (SQLite: file and write-ahead log; PostgreSQL: the schema's relations)."""
        if self.kind == "sqlite":
            path = Path(make_url(self.url).database or "")
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
        with psycopg.connect(conninfo(self.url)) as connection:
            row = connection.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                (self.schema,)).fetchone()
        return int(row[0]) if row else 0

    def row_counts(self, tables: tuple[str, ...]) -> dict[str, int]:
        """How many rows each table holds (for the read models: every version ever written)."""
        if self.kind == "sqlite":
            with sqlite3.connect(make_url(self.url).database or "") as connection:
                return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        with psycopg.connect(conninfo(self.url)) as connection:
            return {t: connection.execute(f'SELECT count(*) FROM "{self.schema}".{t}').fetchone()[0]  # type: ignore[index]
                    for t in tables}

    def columns(self, prefix: str) -> dict[str, tuple[str, ...]]:
        """Every table whose name starts with `prefix`, with its columns, as the store has them
        (not as the code declares them: what a run measures is what the product created)."""
        if self.kind == "sqlite":
            with sqlite3.connect(make_url(self.url).database or "") as connection:
                names = [row[0] for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ? ORDER BY name",
                    (len(prefix), prefix))]
                return {name: tuple(row[1] for row in connection.execute(f"PRAGMA table_info({name})"))
                        for name in names}
        with psycopg.connect(conninfo(self.url)) as connection:
            rows = connection.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND left(table_name, %s) = %s ORDER BY table_name, ordinal_position",
                (self.schema, len(prefix), prefix)).fetchall()
        found: dict[str, tuple[str, ...]] = {}
        for table, column in rows:
            found[str(table)] = found.get(str(table), ()) + (str(column),)
        return found

    def counts_by(self, table: str, column: str) -> dict[int, int]:
        """How many rows of `table` hold each value of `column`."""
        query = f"SELECT {column}, count(*) FROM {{}} GROUP BY {column}"
        if self.kind == "sqlite":
            with sqlite3.connect(make_url(self.url).database or "") as connection:
                return {int(value): int(count) for value, count in connection.execute(query.format(table))}
        with psycopg.connect(conninfo(self.url)) as connection:
            return {int(value): int(count) for value, count in
                    connection.execute(query.format(f'"{self.schema}".{table}')).fetchall()}  # type: ignore[arg-type]

    def writes(self, tables: tuple[str, ...]) -> dict[str, dict[str, int]] | None:
        """PostgreSQL's count of the rows inserted, updated and deleted in each table since it
        was created (a table renamed keeps its count); None on SQLite, which keeps no such count."""
        if self.kind == "sqlite":
            return None
        with psycopg.connect(conninfo(self.url)) as connection:
            rows = connection.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
                                      "WHERE schemaname = %s", (self.schema,)).fetchall()
        counts = {str(name): {"inserted": int(i), "updated": int(u), "deleted": int(d)} for name, i, u, d in rows}
        return {t: counts.get(t, {"inserted": 0, "updated": 0, "deleted": 0}) for t in tables}

    def dead_rows(self, tables: tuple[str, ...]) -> dict[str, int] | None:
        """PostgreSQL's count of dead row versions in each table (left by updates and deletes
        until a VACUUM); None on SQLite, which keeps no such count."""
        if self.kind == "sqlite":
            return None
        with psycopg.connect(conninfo(self.url)) as connection:
            rows = connection.execute("SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE schemaname = %s",
                                      (self.schema,)).fetchall()
        counts = {str(name): int(dead) for name, dead in rows}
        return {t: counts.get(t, 0) for t in tables}


@dataclass(frozen=True)
class Stores:
    """The product's store, a raw store for the library's baselines and an empty one (the
    idle service's memory), side by side on the same disk or database."""

    product: Database
    raw: Database
    empty: Database
    directory: Path


@contextmanager
def fresh_stores(kind: str, keep: bool = False) -> Iterator[Stores]:
    directory = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    if kind == "sqlite":
        def at(name: str) -> Database:
            return Database(kind, f"sqlite:///{directory / name}.sqlite", "public", directory)

        stores = Stores(at("ledger"), at("raw"), at("empty"), directory)
        try:
            yield stores
        finally:
            if not keep:
                shutil.rmtree(directory, ignore_errors=True)
        return
    if kind != "postgresql":
        raise ValueError("store must be sqlite or postgresql")
    stem = f"bench_{secrets.token_hex(4)}"
    schemas = [stem, f"{stem}_raw", f"{stem}_empty"]
    with psycopg.connect(conninfo(), autocommit=True, connect_timeout=5) as connection:
        for schema in schemas:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    stores = Stores(*(Database(kind, POSTGRES_URL, schema, directory) for schema in schemas), directory)
    try:
        yield stores
    finally:
        if not keep:
            with psycopg.connect(conninfo(), autocommit=True) as connection:
                for schema in schemas:
                    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            shutil.rmtree(directory, ignore_errors=True)


def postgres_version() -> str | None:
    try:
        with psycopg.connect(conninfo(), connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except psycopg.Error:
        return None


def sqlite_version() -> str:
    return sqlite3.sqlite_version
