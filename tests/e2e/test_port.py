"""`make serve PORT=...` and a busy port: `ledger demo` and `ledger serve` stop with one clear
line before they load, migrate or print a token, on both stores."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from sqlalchemy import inspect

from service.db import make_engine
from tests.e2e.test_serve import LEDGER

ROOT = Path(__file__).resolve().parents[2]


def env_of(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return os.environ | {"LEDGER_DATABASE_URL": settings.database_url,
                         "LEDGER_DATABASE_SCHEMA": settings.database_schema, "COLUMNS": "300"}


def store_has_tables(settings) -> bool:  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    try:
        schema = settings.database_schema if settings.store == "postgresql" else None
        return bool(inspect(engine).get_table_names(schema=schema))
    finally:
        engine.dispose()


def test_a_busy_port_stops_the_demo_with_one_line_before_any_token_or_load(settings, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        for command in (["demo"], ["serve", "--issue-tokens"]):
            ran = subprocess.run([LEDGER, *command, "--port", str(port)], env=env_of(settings), cwd=tmp_path,
                                 capture_output=True, text=True, timeout=60)
            assert ran.returncode == 2, ran.stderr
            assert ran.stdout == ""
            assert ran.stderr.strip().splitlines() == [
                f"cannot serve: port {port} on 127.0.0.1 is busy (Address already in use); stop what uses it or "
                "choose another port (--port, or make serve PORT=...)"]
            assert "lt_" not in ran.stderr
    assert not store_has_tables(settings)  # nothing migrated, nothing loaded


def test_the_demo_without_serving_does_not_need_the_port(settings, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        ran = subprocess.run([LEDGER, "demo", "--no-serve", "--port", str(holder.getsockname()[1])],
                             env=env_of(settings), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.count("token: lt_") == 5


def test_make_serve_passes_its_port_to_the_demo():
    planned = subprocess.run(["make", "-n", "-o", ".venv/.installed", "serve", "PORT=8765"], cwd=ROOT,
                             capture_output=True, text=True, timeout=30, check=True)
    assert "ledger demo --host 127.0.0.1 --port 8765" in planned.stdout
    default = subprocess.run(["make", "-n", "-o", ".venv/.installed", "serve"], cwd=ROOT, capture_output=True,
                             text=True, timeout=30, check=True)
    assert "--port 8000" in default.stdout
