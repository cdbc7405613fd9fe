"""One settings class builds everything from the environment (prefix `LEDGER_`).

`LEDGER_DATABASE_URL` selects the store: the default is an embedded SQLite file under
`./var/`; `postgresql://user@host:port/db` selects PostgreSQL. The store configuration is
handed to the eventsourcing application as `env=`, never written into `os.environ`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

DEFAULT_DATABASE_URL = "sqlite:///./var/ledger.sqlite"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    database_schema: str = "public"
    """PostgreSQL schema that holds every table of the ledger (ignored on SQLite)."""
    cipher_key: SecretStr | None = None
    """Turns on the library's AES encryption of stored events at rest."""
    max_body_bytes: int = Field(1_000_000, ge=0)
    """A request body over this many bytes gets 413 (rule body_too_large), declared or chunked."""
    body_timeout_seconds: float = Field(30.0, gt=0)
    """A request body must arrive whole within this many seconds of its first read, else 408."""
    pool_size: int = 5
    pool_max_overflow: int = Field(5, ge=0)
    """PostgreSQL connections a pool may open beyond pool_size under load; a process has up to 6
    pools with its own projector, 3 without (README, Configuration)."""
    lock_timeout_seconds: int = 10
    commands_at_once: int = Field(2, ge=1)
    """Commands one process decides and stores at a time; the others wait their turn asleep
    (the store takes one writer at a time anyway; docs/adr/0051)."""
    projector: Literal["embedded", "external"] = "embedded"
    """embedded: the service runs the projections in its own process; external: another
    process does (`ledger project --follow`) and the service waits on its tracking."""
    projector_citizens: int = Field(4096, ge=1)
    """Citizens the projector holds in memory (the last it applied events to); an event of
    another is applied after its citizen is read from the store (docs/adr/0041)."""
    projector_packed_citizens_mib: int = Field(0, ge=0)
    """MiB of the citizens the projector let go of that it keeps pickled (the last let go of),
    to take them from there rather than from the store when an event of theirs comes; 0: none.
    Off by default: the memory it costs and what it saves are weighed in docs/adr/0055."""
    projector_facilities: int = Field(64, ge=1)
    """Facilities the projector holds in memory (the last it applied events to); an event of
    another is applied after the facility is read from the store (docs/adr/0050)."""
    projector_facility_years: int = Field(2048, ge=1)
    """Facility-years whose months the projector holds in memory (the last it changed); another
    is read from its row when an event changes it (docs/adr/0046)."""
    projector_stay_page: int = Field(1000, ge=1)
    """Stays the projector reads and holds at a time when a step goes through every stay (a
    schedule repricing its year, the horizon moved, the open tails computed again)."""
    regulation_limit_pct: Decimal = Decimal("5")
    """The carry-over a facility keeps: the result limited to ± this % of its cost basis."""
    regulation_years: int = 2
    """The regulation of year Y enters the tariff of year Y + this."""
    future_position_wait_seconds: float = 1.0
    """How long a read as of a position not yet recorded waits for it before it is refused."""
    read_wait_seconds: float = 5.0
    """How long a read waits for the projections to reach the position it names."""
    auth_failure_limit: int = Field(20, ge=1)
    """Failed token attempts from one client address within the window before it gets 429."""
    auth_failure_window_seconds: int = Field(60, ge=1)
    """The moving window over which failed token attempts are counted."""
    ready_max_lag: int = Field(1000, ge=0)
    """/health/ready answers 503 while the projections are more than this many positions behind."""
    ready_timeout_seconds: float = Field(2.0, gt=0)
    """How long /health/ready waits for the store to answer before it says 503."""
    requests_in_flight_per_client: int = Field(16, ge=1)
    """Requests one client (token, UI session, else address) may have in progress at once; one
    more is refused at once with 429 `too_many_in_flight` (health and metrics are never limited)."""
    export_concurrency_per_client: int = Field(1, ge=1)
    """Spreadsheet exports one actor (token name) may have rendered at once; one more gets 429."""
    export_processes: int = Field(2, ge=1)
    """Worker processes that render spreadsheets, outside the service's interpreter lock."""
    export_max_rows: int = Field(50_000, ge=1)
    """An export of more rows than this is refused (422, rule export_too_large) before it is rendered."""
    header_timeout_seconds: float = Field(10.0, gt=0)
    """`ledger serve` closes a connection that has not completed a request's headers this many
    seconds after it opened (or after the first byte following its previous response)."""
    keep_alive_timeout_seconds: int = Field(5, ge=1)
    """`ledger serve` closes a keep-alive connection idle for this many seconds."""
    log_repeat_seconds: float = Field(10.0, gt=0)
    """A server warning that clients can repeat (a failed accept, an invalid request) is logged
    at most once per this many seconds, with the count of those left out."""
    shutdown_timeout_seconds: float = Field(30.0, gt=0)
    """On SIGTERM, how long `ledger serve` lets in-flight requests finish before it cancels them."""
    ui_session_idle_minutes: float = Field(30.0, gt=0)
    """A web UI session unused for this long ends (the user logs in again)."""
    ui_session_max_hours: float = Field(12.0, gt=0)
    """A web UI session ends this long after log-in however much it is used."""
    ui_form_repeat_minutes: float = Field(30.0, gt=0)
    """A web UI form whose command the same session recorded from another form within this
    long is not recorded again unless the user confirms it (docs/adr/0044)."""

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        backend = make_url(value).get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ValueError("LEDGER_DATABASE_URL must be sqlite:///PATH or postgresql://user@host:port/db")
        return value

    @property
    def url(self) -> URL:
        return make_url(self.database_url)

    @property
    def store(self) -> Literal["sqlite", "postgresql"]:
        return "sqlite" if self.url.get_backend_name() == "sqlite" else "postgresql"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.database or "var/ledger.sqlite")

    def sqlalchemy_url(self) -> URL:
        if self.store == "sqlite":
            return URL.create("sqlite", database=str(self.sqlite_path))
        return self.url.set(drivername="postgresql+psycopg")

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's configuration for this store."""
        env = {"CREATE_TABLE": "n"}
        if self.store == "sqlite":
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": str(self.lock_timeout_seconds),
                "APPLICATION_RECORDER_TOPIC": "service.store:LedgerSQLiteRecorder",
            }
        else:
            url = self.url
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": url.database or "postgres",
                "POSTGRES_HOST": url.host or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": url.username or "postgres",
                "POSTGRES_PASSWORD": url.password or "",
                "POSTGRES_SCHEMA": self.database_schema,
                "POSTGRES_POOL_SIZE": str(self.pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.pool_max_overflow),
                "POSTGRES_LOCK_TIMEOUT": str(self.lock_timeout_seconds),
                "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
                "APPLICATION_RECORDER_TOPIC": "service.store:LedgerPostgresRecorder",
            }
        if self.cipher_key is not None:
            env |= {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": self.cipher_key.get_secret_value()}
        return env
