"""The product as a user runs it: `ledger ...` commands as subprocesses and a real `ledger serve`
on a free port, with its health, its projections' lag and its peak resident memory."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.store import LEDGER, Database


class ProductFailed(RuntimeError):
    """A `ledger` command or the service did not do what it should: the run stops here."""


@dataclass(frozen=True)
class Timed:
    seconds: float
    stdout: str
    stderr: str
    peak_memory: int | None = None
    """The command's peak resident set (VmHWM, bytes), read from /proc while it ran."""


def ledger(database: Database, *args: str, timeout: float = 24 * 3600) -> Timed:
    """Run `ledger ARGS` on the store; its wall time, measured around the whole process, and its
    peak resident memory: the highest VmHWM read from /proc while it runs (every 20 ms). The
    kernel's ru_maxrss of the reaped child is not used: exec carries the forking process's own
    peak into it, so a large caller (a test run) would be counted as the command's."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([LEDGER, *args], env=database.env, cwd=database.directory, stdout=out, stderr=err)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        peak = 0
        try:
            while True:
                pid, status, _ = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                peak = max(peak, _peak_of(process.pid))
                time.sleep(0.02)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise ProductFailed(f"ledger {' '.join(args)} exited {process.returncode}:\n{stderr[-3000:]}")
    return Timed(seconds, stdout, stderr, peak)


def _peak_of(pid: int) -> int:
    """The process's VmHWM in bytes (0 when it is exiting and the kernel shows none)."""
    try:
        return memory_of(pid).get("VmHWM", 0)
    except OSError:
        return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory_of(pid: int) -> dict[str, int]:
    """VmHWM (peak resident set) and VmRSS of a process, in bytes, from /proc/<pid>/status."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            figures[name] = int(value.split()[0]) * 1024
    return figures


class Service:
    """`ledger serve` on a free port, as a subprocess; the log goes to a file beside the store."""

    def __init__(self, database: Database, name: str = "serve", projector: str = "embedded") -> None:
        """`projector`: embedded (the service projects), external (a `ledger project --follow`
        process beside it does) or none (nothing projects: for requests that need no reads)."""
        self.database, self.port = database, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = database.directory / f"{name}-{self.port}.log"
        self._log = self.log.open("wb")
        env = {**database.env, "LEDGER_PROJECTOR": "external" if projector == "none" else projector}
        self.projector: subprocess.Popen[bytes] | None = None
        """`ledger project --follow`, when the projections run in their own process."""
        if projector == "external":
            self.projector_log = database.directory / f"{name}-projector.log"
            self._projector_log = self.projector_log.open("wb")
            self.projector = subprocess.Popen([LEDGER, "project", "--follow"], env=env, cwd=database.directory,
                                              stdout=self._projector_log, stderr=subprocess.STDOUT)
        self.process = subprocess.Popen([LEDGER, "serve", "--port", str(self.port)], env=env,
                                        cwd=database.directory, stdout=self._log, stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=self.base, timeout=60)

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def health(self) -> dict[str, Any]:
        return self.http.get("/health").json()

    def wait_ready(self, timeout: float = 120) -> float:
        """Seconds until /health answers."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise ProductFailed(f"ledger serve exited {self.process.returncode}:\n{self.tail()}")
            try:
                if self.http.get("/health").status_code in (200, 503):
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise ProductFailed(f"ledger serve did not answer within {timeout} s:\n{self.tail()}")

    def wait_caught_up(self, timeout: float) -> tuple[int, float]:
        """Wait until the projections have reached the store's position: (position, seconds)."""
        started = time.perf_counter()
        while True:
            if self.process.poll() is not None:
                raise ProductFailed(f"ledger serve exited {self.process.returncode}:\n{self.tail()}")
            if self.projector is not None and self.projector.poll() is not None:
                raise ProductFailed(f"ledger project --follow exited {self.projector.returncode}:\n"
                                    + "\n".join(self.projector_log.read_text(errors="replace").splitlines()[-30:]))
            body = self.health()
            projections = body.get("projections", {})
            if projections.get("lag") == 0 and projections.get("running", True):
                return int(body["position"]), time.perf_counter() - started
            waited = time.perf_counter() - started
            if waited > timeout:
                raise ProductFailed(f"the projections did not catch up within {timeout:.0f} s: {body}")
            time.sleep(min(1.0, 0.05 + waited / 100))  # ~1 % of the wait: asking costs the service too

    def memory(self) -> dict[str, int]:
        return memory_of(self.process.pid)

    def projector_memory(self) -> dict[str, int] | None:
        return None if self.projector is None else memory_of(self.projector.pid)

    def stop(self) -> None:
        self.http.close()
        for process in (self.process, self.projector):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        self._log.close()
        if self.projector is not None:
            self._projector_log.close()


def create_token(database: Database, role: str = "admin", name: str = "bench") -> str:
    return ledger(database, "token", "create", "--role", role, "--name", name).stdout.strip()
