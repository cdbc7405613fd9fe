"""The tables the project owns (created by Alembic in `migrations/`), the SQLAlchemy engine,
and `migrate()`, which brings a store up to date.

Ownership (docs/adr/0003): the eventsourcing library owns the DDL of its own tables
(`stored_events`, tracking) and creates them through its recorders; Alembic owns every
project table and the append-only guards, including those on the library's table, and
runs after the library's tables exist.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine

import migrations
from projections.budget import FIGURES, Figure, Kind
from service.settings import Settings

metadata = MetaData()

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("originator_id", String(64), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_ledger_entries_stream", "originator_id", "originator_version", unique=True),
    Index("ix_ledger_entries_recorded_at", "recorded_at"),
)

ledger_chain = Table(
    "ledger_chain",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("content_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Index("ix_ledger_chain_content", "content_hash"),
)
"""Tamper evidence: each event's content hash and its link in the chain (service/chain.py)."""

citizen_reads = Table(
    "citizen_reads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
    Column("reader", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("resource", String(300), nullable=False),
    Column("citizen_ref", String(64), nullable=False),
    Column("municipality", String(3), nullable=True),
    Index("ix_citizen_reads_citizen", "citizen_ref", "id"),
)
"""Who read which citizen's rows, through which resource, when (append-only); `municipality`:
the paying municipality of a `buyer` reader (empty for every other role)."""

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""A command's Idempotency-Key per principal: `key` holds the SHA-256 of the key in hex
(service/store.py `idempotency_key_hash`), never the key as sent."""

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("municipality", String(3), nullable=True),
)
"""`municipality`: the paying municipality a `buyer` token reads for (empty for every other role)."""

ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("token_id", String(32), nullable=False),
    Column("actor_name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_ui_sessions_token", "token_id"),
    Index("ix_ui_sessions_expires", "expires_at"),
    Index("ix_ui_sessions_last_seen", "last_seen_at"),
)
"""The web UI's sessions (service/ui/sessions.py): the SHA-256 of the cookie's random id, never
the id itself, and the id of the API token it was opened with, never the token."""

ledger_residents = Table(
    "ledger_residents",
    metadata,
    Column("facility", String(64), primary_key=True),
    Column("originator_id", String(32), primary_key=True),
    Column("position", BigInteger, primary_key=True),
)
"""Append-only, written with the events: a citizen stream moved in to a facility at a position."""

FIGURE_TYPES = {Kind.MONEY: BigInteger, Kind.COUNT: Integer, Kind.HOURS: BigInteger}
"""The column type of a summed figure of each kind: amounts and hours in whole hundredths
(64 bits), days as they are (32 bits)."""


def month_column(month: int, name: str) -> str:
    """The column of a figure (or of the citizens by level) of a month in a facility-year row."""
    return f"m{month:02d}_{name}"


def year_table(metadata: MetaData, figures: tuple[Figure, ...] = FIGURES, name: str = "rm_facility_years") -> Table:
    """The facility-year rows (docs/adr/0039): the key, the versions' positions, a column for
    each month and summed figure of the declaration (`projections.budget.StayFigures`, month
    by month in its order: `m01_activity` ... `m12_support_hours`) and the citizens by level
    of the twelve months (JSON: a list of twelve, null for a month without figures)."""
    return Table(
        name,
        metadata,
        Column("facility", String(64), primary_key=True),
        Column("year", Integer, primary_key=True),
        Column("recorded_from", BigInteger, primary_key=True),
        Column("recorded_to", BigInteger, nullable=True),
        *(Column(month_column(month, figure.name), FIGURE_TYPES[figure.kind], nullable=False)
          for month in range(1, 13) for figure in figures),
        Column("citizens_by_level", Text, nullable=False),
        Index(f"ix_{name}_from", "recorded_from"),
        Index(f"ix_{name}_to", "recorded_to", postgresql_where=text("recorded_to IS NOT NULL"),
              sqlite_where=text("recorded_to IS NOT NULL")),
        Index(f"ix_{name}_open", "recorded_to", "year", "facility",
              postgresql_where=text("recorded_to IS NULL"), sqlite_where=text("recorded_to IS NULL")),
        Index(f"ix_{name}_closed", "year", "recorded_to", "recorded_from",
              postgresql_where=text("recorded_to IS NOT NULL"),
              sqlite_where=text("recorded_to IS NOT NULL")),
    )


rm_facility_years = year_table(metadata)
"""Bitemporal: what the stays add to each month of a facility-year, valid for recorded_from <= N < recorded_to."""

rm_facts = Table(
    "rm_facts",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("facility", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("recorded_from", BigInteger, primary_key=True),
    Column("recorded_to", BigInteger, nullable=True),
    Column("value", Text, nullable=False),
    Index("ix_rm_facts_kind_year", "kind", "year", "recorded_from"),
    Index("ix_rm_facts_to", "recorded_to"),
)
"""Bitemporal facts as JSON: facility, frame, baseline, schedule, rates (of a schedule), horizon."""

rm_statement_lines = Table(
    "rm_statement_lines",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("stay_id", String(36), primary_key=True),
    Column("recorded_from", BigInteger, primary_key=True),
    Column("recorded_to", BigInteger, nullable=True),
    Column("value", Text, nullable=False),
    Index("ix_rm_statement_lines_to", "recorded_to"),
)
"""Bitemporal: a stay's statement lines for a paying municipality in a year: its facility and
its periods by month (JSON, `service.facts.line_value`; docs/adr/0039)."""

rm_stays = Table(
    "rm_stays",
    metadata,
    Column("stay_id", String(36), primary_key=True),
    Column("recorded_from", BigInteger, primary_key=True),
    Column("recorded_to", BigInteger, nullable=True),
    Column("facility", String(64), nullable=False),
    Column("move_in", Date, nullable=False),
    Column("move_out", Date, nullable=True),
    Column("value", Text, nullable=False),
    Index("ix_rm_stays_facility", "facility", "recorded_from"),
    Index("ix_rm_stays_open", "stay_id", postgresql_where=text("recorded_to IS NULL"),
          sqlite_where=text("recorded_to IS NULL")),
    Index("ix_rm_stays_closed", "recorded_to", "recorded_from", postgresql_where=text("recorded_to IS NOT NULL"),
          sqlite_where=text("recorded_to IS NOT NULL")),
)
"""Bitemporal: a stay's facts (facility, move-in, conditions by date, move-out; no citizen reference) as JSON."""

def tail_columns() -> list[Column]:
    """A tail group's key after the facility (projections/tails.py `TailPiece.columns`): its
    days (open: 9999-12-31), level key, level (0: none), special rate in øre (0: none), paying
    municipality ("": a run-off piece), present."""
    return [Column("first_day", Date, primary_key=True), Column("last_day", Date, primary_key=True),
            Column("level_key", String(8), primary_key=True), Column("level", Integer, primary_key=True),
            Column("special_rate", BigInteger, primary_key=True), Column("payer", String(3), primary_key=True),
            Column("present", Boolean, primary_key=True)]


rm_tails = Table(
    "rm_tails",
    metadata,
    Column("facility", String(64), primary_key=True),
    *tail_columns(),
    Column("recorded_from", BigInteger, primary_key=True),
    Column("recorded_to", BigInteger, nullable=True),
    Column("citizens", Integer, nullable=False),
    Column("hours", BigInteger, nullable=False),
    Index("ix_rm_tails_from", "recorded_from"),
    Index("ix_rm_tails_to", "recorded_to", postgresql_where=text("recorded_to IS NOT NULL"),
          sqlite_where=text("recorded_to IS NOT NULL")),
)
"""Bitemporal: a facility's open tail after the horizon, one row per group (docs/adr/0042):
the citizens on the piece and the sum of their hours per day (hundredths)."""

rm_tail_checkpoints = Table(
    "rm_tail_checkpoints",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("facility", String(64), primary_key=True),
    *tail_columns(),
    Column("citizens", Integer, nullable=False),
    Column("hours", BigInteger, nullable=False),
)
"""Every facility's tail groups valid at `position` (written every few thousand positions), so
that a read of every facility's tail at N reads the latest checkpoint at or before N and the
`rm_tails` versions since (docs/adr/0042)."""

rm_day_postings = Table(
    "rm_day_postings",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("facility", String(64), primary_key=True),
    Column("paying_municipality", String(3), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("special_tariff", String(8), primary_key=True),
    Column("service_rate", BigInteger, primary_key=True),
    Column("days", Integer, nullable=False),
    sqlite_with_rowid=False,
)
"""Appended, never changed: at `position`, an event changed a facility-year's present days in
one group that prices them by `days` (projections/regulation.py `day_groups`: paying
municipality, level (0: none or a special tariff), special tariff ("": none), service rate in
øre). A year's groups as of N are the sums of its postings up to N (docs/adr/0047); keyed by
year first, so that the sum reads one range of the key (SQLite keeps the rows in it)."""

projection_stops = Table(
    "projection_stops",
    metadata,
    Column("application_name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("error", Text, nullable=False),
    Column("stopped_at", DateTime(timezone=True), nullable=False),
)
"""Where a projection stopped: the event it could not apply and why (service/projection.py);
no row while it runs."""

READ_MODEL_TABLES = ("rm_facility_years", "rm_facts", "rm_statement_lines", "rm_stays", "rm_tails",
                     "rm_tail_checkpoints", "rm_day_postings")
APPENDED_TABLES = ("rm_day_postings",)
"""Read-model tables whose rows an event appends at its `position` (never closed)."""
LEDGER_INDEX_TABLES = ("ledger_entries", "ledger_residents")
"""The ledger's own index of the events, written with them (append-only)."""


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC): make every read aware."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def make_engine(settings: Settings) -> Engine:
    if settings.store == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            settings.sqlalchemy_url(), connect_args={"timeout": settings.lock_timeout_seconds}
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(
        settings.sqlalchemy_url(),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_pre_ping=True,
        connect_args={"options": f"-csearch_path={settings.database_schema}"},
    )


def alembic_config(settings: Settings, engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.attributes["settings"] = settings
    config.attributes["engine"] = engine
    return config


def create_library_tables(settings: Settings) -> None:
    """Let the eventsourcing library create its own tables (its DDL, its versions): the
    events and the projections' tracking."""
    env = settings.library_env() | {"CREATE_TABLE": "y"}
    if settings.store == "postgresql":
        engine = make_engine(settings)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.database_schema}"'))
        engine.dispose()
    factory = InfrastructureFactory.construct(Environment("BudgetLedger", env))
    try:
        factory.application_recorder()
        factory.tracking_recorder()  # the projections' tracking table (service/projection.py writes it)
    finally:
        factory.close()


def migrate(settings: Settings) -> None:
    """Bring the store up to date: the library's tables, then Alembic's migrations."""
    create_library_tables(settings)
    engine = make_engine(settings)
    try:
        command.upgrade(alembic_config(settings, engine), "head")
    finally:
        engine.dispose()
