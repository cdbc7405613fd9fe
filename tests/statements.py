"""Counting the SQL statements a store really executes, whoever sends them (SQLAlchemy, the
eventsourcing library, psycopg's own BEGIN and COMMIT):

- SQLite: the database's own trace (`sqlite3.Connection.set_trace_callback`, SQLite's
  `sqlite3_trace_v2`) on every connection opened while counting is installed: each statement
  SQLite runs, as it runs it;
- PostgreSQL: the wire. A loopback forwarder reads the frontend protocol between the service
  and the server and records each statement the server is asked to run: a simple Query, or an
  Execute of a bound portal (the text of its Parse, also when a prepared statement is run again).
  Nothing is mocked: the server answers every statement.
"""

from __future__ import annotations

import socket
import sqlite3
import struct
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from tests.proxy import LoopbackProxy

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "START TRANSACTION", "END")


@dataclass
class Statements:
    """The statements executed while `counting` is set, in order."""

    counting: bool = False
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sql: str) -> None:
        if self.counting:
            with self.lock:
                self.seen.append(" ".join(sql.split()))

    @contextmanager
    def during(self) -> Iterator[list[str]]:
        """Count the statements executed inside the block (the list fills as they run)."""
        self.seen = []
        self.counting = True
        try:
            yield self.seen
        finally:
            self.counting = False

    @staticmethod
    def sql(seen: list[str]) -> list[str]:
        """Every statement but transaction control (BEGIN, COMMIT, ROLLBACK)."""
        return [s for s in seen if s.strip(" ;").upper() not in TRANSACTION_CONTROL]

    @staticmethod
    def transaction_control(seen: list[str]) -> list[str]:
        return [s for s in seen if s.strip(" ;").upper() in TRANSACTION_CONTROL]


@contextmanager
def sqlite_trace(monkeypatch) -> Iterator[Statements]:  # type: ignore[no-untyped-def]
    """Trace every SQLite connection opened inside the block (open the store inside it)."""
    statements = Statements()
    connect = sqlite3.connect

    def traced(*args, **kwargs):  # type: ignore[no-untyped-def]
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(statements.record)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", traced)  # SQLAlchemy's pysqlite connects through dbapi2
    yield statements


class PostgresWire(LoopbackProxy):
    """Forwards 127.0.0.1:<port> to a PostgreSQL server, recording the statements each client
    connection asks the server to execute (TLS and GSS encryption must be off: the test sets
    PGSSLMODE and PGGSSENCMODE to disable)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.statements = Statements()
        self.errors: list[str] = []
        super().__init__(target)

    def _forward(self, client: socket.socket, upstream: socket.socket) -> None:
        frontend = FrontendMessages(self.statements, self.errors)
        threading.Thread(target=self._pipe, args=(client, upstream, frontend.read), daemon=True).start()
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def close(self) -> None:
        self.cut()


class FrontendMessages:
    """One client connection's frontend protocol, read from its bytes as they come: the
    statements it asks the server to run."""

    def __init__(self, statements: Statements, errors: list[str]) -> None:
        self.statements, self.errors = statements, errors
        self.buffer, self.started = b"", False
        self.prepared: dict[bytes, str] = {}
        self.portals: dict[bytes, str] = {}

    def read(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if not self.started:  # startup, SSL and GSS requests: no type byte
                if len(self.buffer) < 8:
                    return
                length, code = struct.unpack("!II", self.buffer[:8])
                if len(self.buffer) < length:
                    return
                self.buffer = self.buffer[length:]
                if code in (80877103, 80877104):
                    self.errors.append("the client asked for an encrypted connection")
                self.started = code == 196608 or (code >> 16) == 3
                continue
            if len(self.buffer) < 5:
                return
            kind, length = self.buffer[:1], struct.unpack("!I", self.buffer[1:5])[0]
            if len(self.buffer) < 1 + length:
                return
            body, self.buffer = self.buffer[5:1 + length], self.buffer[1 + length:]
            self._message(kind, body)

    def _message(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            self.statements.record(body.rstrip(b"\0").decode())
        elif kind == b"P":
            name, rest = body.split(b"\0", 1)
            self.prepared[name] = rest.split(b"\0", 1)[0].decode()
        elif kind == b"B":
            portal, name, _ = body.split(b"\0", 2)
            self.portals[portal] = self.prepared.get(name, "?")
        elif kind == b"E":
            portal = body.split(b"\0", 1)[0]
            self.statements.record(self.portals.get(portal, "?"))
