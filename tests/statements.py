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


class PostgresWire:
    """Forwards 127.0.0.1:<port> to a PostgreSQL server, recording the statements each client
    connection asks the server to execute (TLS and GSS encryption must be off: the test sets
    PGSSLMODE and PGGSSENCMODE to disable)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.statements = Statements()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.errors: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        for s in [self.listener, *self.sockets]:
            try:
                s.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            threading.Thread(target=self._frontend, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _frontend(self, client: socket.socket, upstream: socket.socket) -> None:
        """Forward the client's bytes as they come and parse the complete messages among them."""
        buffer, started = b"", False
        prepared: dict[bytes, str] = {}
        portals: dict[bytes, str] = {}
        try:
            while data := client.recv(65536):
                upstream.sendall(data)
                buffer += data
                while True:
                    if not started:  # startup, SSL and GSS requests: no type byte
                        if len(buffer) < 8:
                            break
                        length, code = struct.unpack("!II", buffer[:8])
                        if len(buffer) < length:
                            break
                        buffer = buffer[length:]
                        if code in (80877103, 80877104):
                            self.errors.append("the client asked for an encrypted connection")
                        started = code == 196608 or (code >> 16) == 3
                        continue
                    if len(buffer) < 5:
                        break
                    kind, length = buffer[:1], struct.unpack("!I", buffer[1:5])[0]
                    if len(buffer) < 1 + length:
                        break
                    body, buffer = buffer[5:1 + length], buffer[1 + length:]
                    self._message(kind, body, prepared, portals)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _message(self, kind: bytes, body: bytes, prepared: dict[bytes, str], portals: dict[bytes, str]) -> None:
        if kind == b"Q":
            self.statements.record(body.rstrip(b"\0").decode())
        elif kind == b"P":
            name, rest = body.split(b"\0", 1)
            prepared[name] = rest.split(b"\0", 1)[0].decode()
        elif kind == b"B":
            portal, name, _ = body.split(b"\0", 2)
            portals[portal] = prepared.get(name, "?")
        elif kind == b"E":
            portal = body.split(b"\0", 1)[0]
            self.statements.record(portals.get(portal, "?"))
