"""A real `ledger serve` (or any `ledger` command) as a subprocess on a loopback socket, for the
end-to-end reliability tests: started, waited for, stopped with SIGTERM or killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from service.auth import create_token
from service.db import make_engine, migrate
from service.settings import Settings
from tests.e2e.test_serve import LEDGER, free_port


def ledger_env(settings: Settings, **extra: str) -> dict[str, str]:
    return os.environ | {"LEDGER_DATABASE_URL": settings.database_url,
                         "LEDGER_DATABASE_SCHEMA": settings.database_schema,
                         "LEDGER_POOL_SIZE": str(settings.pool_size),
                         "LEDGER_POOL_MAX_OVERFLOW": str(settings.pool_max_overflow)} | extra


def ledger(settings: Settings, cwd: Path, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
    """Run one `ledger` command to its end."""
    return subprocess.run([LEDGER, *args], env=ledger_env(settings, **extra), cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=check)


def token(settings: Settings, role: str, name: str) -> str:
    """A token made in process (the store migrated first): a `ledger token create` costs a second."""
    migrate(settings)
    engine = make_engine(settings)
    try:
        return create_token(engine, role, name)
    finally:
        engine.dispose()


class Server:
    """`ledger serve` on a free port, its stderr (the JSON log) in a file."""

    def __init__(self, settings: Settings, cwd: Path, name: str = "serve", **extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / f"{name}-{self.port}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([LEDGER, "serve", "--port", str(self.port)], env=ledger_env(settings, **extra),
                                        cwd=cwd, stdout=subprocess.DEVNULL, stderr=self._log)
        self.wait_until_up()

    def wait_until_up(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"ledger serve ended: {self.log()[-2000:]}"
            try:
                if httpx.get(f"{self.base}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"ledger serve did not come up: {self.log()[-2000:]}")

    def client(self, token: str | None = None, timeout: float = 30) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=timeout)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def terminate(self, seconds: float = 30) -> int:
        """SIGTERM and wait: the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=seconds)
        self._log.close()
        return code

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.kill()
