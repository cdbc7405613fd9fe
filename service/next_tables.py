"""The read models a rebuild projects into while the current ones answer the reads, and the
switch to them in one transaction (docs/adr/0034).

A rebuild creates `<table>_next` beside every read-model table (same columns, indexes named
`<index>_next`) and tracks its own position under `REBUILD_APPLICATION`. When it has caught
up, one transaction under the projections' write lock drops the current tables, renames the
`_next` ones (and their indexes) to the current names, moves the tracked position to the
rebuilt one and forgets any stop: readers see the old tables or the new ones, never a mix
and never an empty one. A rebuild that fails or is killed leaves the `_next` tables behind,
unread; the next rebuild drops them and says so.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from service.db import READ_MODEL_TABLES, metadata

SUFFIX = "_next"
REBUILD_APPLICATION = "BudgetLedger.rebuild"
"""The name a rebuild's position in the `_next` tables is tracked under."""


def _dialect(store: str) -> object:
    return sqlite.dialect() if store == "sqlite" else postgresql.dialect()


@lru_cache(maxsize=None)
def next_table(name: str, schema: str | None = None) -> Table:
    """The `_next` table of read-model table `name` (one object per table, so the statements
    on it are compiled once: SQLAlchemy caches a compiled statement per table object)."""
    copy = metadata.tables[name].to_metadata(MetaData(), name=name + SUFFIX, schema=schema)
    for index in copy.indexes:
        index.name = f"{index.name}{SUFFIX}"
    return copy


def create_statements(store: str, schema: str | None) -> list[str]:
    """DROP (a rebuild's leftovers) and CREATE of every `_next` table with its indexes."""
    dialect = _dialect(store)
    statements = []
    for name in READ_MODEL_TABLES:
        table = next_table(name, schema)
        statements.append(f"DROP TABLE IF EXISTS {_qualified(name + SUFFIX, schema)}")
        statements.append(str(CreateTable(table).compile(dialect=dialect)))  # type: ignore[arg-type]
        statements.extend(str(CreateIndex(index).compile(dialect=dialect))  # type: ignore[arg-type]
                          for index in sorted(table.indexes, key=lambda index: index.name or ""))
    return statements


def switch_statements(store: str, schema: str | None) -> list[str]:
    """The DDL that puts the `_next` tables in place of the current ones (run in one
    transaction). PostgreSQL renames the indexes (catalogue only); SQLite cannot rename an
    index, so it drops the `_next` ones and builds them again under their own names."""
    statements = []
    for name in READ_MODEL_TABLES:
        statements.append(f"DROP TABLE {_qualified(name, schema)}")
        statements.append(f"ALTER TABLE {_qualified(name + SUFFIX, schema)} RENAME TO {name}")
        if store != "sqlite":
            statements.append(f"ALTER TABLE {_qualified(name, schema)} RENAME CONSTRAINT {name}{SUFFIX}_pkey "
                              f"TO {name}_pkey")
        for index in sorted(metadata.tables[name].indexes, key=lambda index: index.name or ""):
            if store == "sqlite":
                statements.append(f"DROP INDEX {index.name}{SUFFIX}")
                statements.append(str(CreateIndex(index).compile(dialect=sqlite.dialect())))
            else:
                statements.append(f'ALTER INDEX {_qualified(f"{index.name}{SUFFIX}", schema)} RENAME TO {index.name}')
    return statements


def _qualified(name: str, schema: str | None) -> str:
    return name if schema is None else f'"{schema}".{name}'
