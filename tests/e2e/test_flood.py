"""One client cannot starve the others (issue 21, docs/adr/0021), against a real `ledger serve` on a
loopback port, on both stores: while one client holds hundreds of connections that never finish
their headers (some trickling them), sends bodies slowly, keeps a hundred reads waiting for a
position the store has not reached and runs exports without pause, `/health/live` and another
client's reads answer within three times their normal p95, measured in the same test just before
and just after the flood (the larger of the two: the machine may be busy with other work; the
better of two windows during the flood counts, for the same reason); the
slow connections are closed by the server, the slow bodies get 408, the waiting reads 409, the
exports beyond the client's limit 429; and nothing but the answered requests is logged."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.settings import Settings
from tests.e2e.server import Server, token
from tests.e2e.test_operations import setup_facility

pytestmark = pytest.mark.alone
"""It compares latencies under a flood with those before it: `make test` runs it by itself."""

SLOW_HEADERS = 300
TRICKLING = 50
"""Of the slow-header connections, these send one more header line every half second."""
SLOW_BODIES = 20
WAITING_READS = 100
EXPORTS = 4
SAMPLES = 120
WINDOWS = 2
"""Measuring windows during the flood; the better p95 of them counts: on a machine shared with
other work, a burst of that work can land in one window (without the limits, every window takes
seconds, and a read times out)."""
SETTLE_SECONDS = 3.0
"""The flood runs this long before the measuring starts: every kind of slow request is in."""
SERVER = {"LEDGER_HEADER_TIMEOUT_SECONDS": "2", "LEDGER_BODY_TIMEOUT_SECONDS": "2",
          "LEDGER_FUTURE_POSITION_WAIT_SECONDS": "3", "LEDGER_EXPORT_CONCURRENCY_PER_CLIENT": "1",
          "LEDGER_REQUESTS_IN_FLIGHT_PER_CLIENT": "1000"}
"""The server's limits, short so that the test is short (the export limit is the default, named here);
the in-flight limit per client is lifted so that every kind of slow request reaches the service
(tests/api/test_limits.py shows that limit on its own)."""


def p95(seconds: list[float]) -> float:
    return statistics.quantiles(seconds, n=20)[18]


def p95s(health: httpx.Client, reads: httpx.Client) -> tuple[float, float]:
    """The p95 of `/health/live` and of another client's read, asked in turns; each must answer 200."""
    taken: tuple[list[float], list[float]] = ([], [])
    for _ in range(SAMPLES):
        for http, path, times in ((health, "/health/live", taken[0]), (reads, "/v1/central/2026", taken[1])):
            started = time.perf_counter()
            answer = http.get(path)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
    return p95(taken[0]), p95(taken[1])


@dataclass
class Flood:
    """One client's slow and waiting requests, from a process of its own (so that its work does
    not slow the measuring client's), on an event loop there."""

    port: int
    token: str
    beyond: int
    stopping: Any
    results: Any
    seen: Counter[str] = field(default_factory=Counter)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def run(self) -> None:
        """Every kind of slow request at once, until `stopping` is set; then they are cancelled."""
        limits = httpx.Limits(max_connections=WAITING_READS + EXPORTS + 10, keepalive_expiry=1)  # below the server's
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.base, headers=headers, limits=limits, timeout=30) as http:
            tasks = [asyncio.create_task(work) for work in (
                *(self.slow_headers(n < TRICKLING, n * 2 / SLOW_HEADERS) for n in range(SLOW_HEADERS)),
                *(self.slow_body() for _ in range(SLOW_BODIES)),
                *(self.waiting_read(http) for _ in range(WAITING_READS)),
                *(self.export(http) for _ in range(EXPORTS)))]
            while not self.stopping.is_set():
                await asyncio.sleep(0.2)
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    error = task.exception()
                    self.seen[f"flood failed: {type(error).__name__}: {error}"] += 1
            self.results.put(dict(self.seen))  # what was seen until the stop, before the clean-up
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def slow_headers(self, trickle: bool, after: float) -> None:
        """Connections that never finish their headers, the first opened `after` seconds in (they
        are opened over two seconds, as a client opening hundreds would), each opened again
        once the server has closed it; a trickling one sends a header line every half second."""
        await asyncio.sleep(after)
        while True:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(b"GET /v1/facilities HTTP/1.1\r\nHost: ledger\r\n")
            self.seen["slow header connections"] += 1
            try:
                while True:
                    if not trickle:
                        data = await reader.read(100)
                    else:
                        writer.write(b"X-Slow: 1\r\n")
                        try:
                            data = await asyncio.wait_for(reader.read(100), 0.5)
                        except asyncio.TimeoutError:
                            continue
                    if data == b"":
                        break
            except ConnectionError:
                pass
            finally:
                writer.close()
            self.seen["closed by the server"] += 1

    async def slow_body(self) -> None:
        """Bodies sent a byte every 0.3 s, each asked again once answered."""
        while True:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(b"POST /v1/facilities HTTP/1.1\r\nHost: ledger\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000\r\nAuthorization: Bearer " + self.token.encode() + b"\r\n\r\n{")
            answer = b""
            try:
                while not answer:
                    writer.write(b" ")
                    try:
                        answer = await asyncio.wait_for(reader.read(200), 0.3)
                    except asyncio.TimeoutError:
                        continue
            except ConnectionError:
                pass
            finally:
                writer.close()
            if answer:
                self.seen[f"slow body {answer.split(b' ')[1].decode()}"] += 1

    async def waiting_read(self, http: httpx.AsyncClient) -> None:
        while True:
            await self.ask(http, "waiting read", "/v1/central/2026", as_of_position=self.beyond)

    async def export(self, http: httpx.AsyncClient) -> None:
        """One of the client's concurrent exports: refused (429) while another of its exports is
        being made, asked again after the Retry-After it names, until it is answered once."""
        while await self.ask(http, "export", "/v1/central/2026/export") != 200:
            await asyncio.sleep(2)

    async def ask(self, http: httpx.AsyncClient, kind: str, path: str, **params: Any) -> int | None:
        try:
            status = (await http.get(path, params=params)).status_code
        except httpx.TransportError as error:
            self.seen[f"{kind} {type(error).__name__}"] += 1
            return None
        self.seen[f"{kind} {status}"] += 1
        return status


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux's /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def ended(pids: set[int], seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.1)
    return False


def flood(port: int, token: str, beyond: int, running: Any, stopping: Any, results: Any) -> None:
    """The flooding process: runs until `stopping` is set, then puts what it saw in `results`."""
    flooding = Flood(port, token, beyond, stopping, results)
    running.set()
    try:
        asyncio.run(flooding.run())
    except Exception as error:  # noqa: BLE001 - reported to the test, which names it
        results.put({f"flood failed: {type(error).__name__}: {error}": 1})


def test_a_flood_from_one_client_leaves_health_and_another_clients_reads_answering(settings: Settings, tmp_path):
    flooder, other = token(settings, "admin", "flooder"), token(settings, "finance", "other-client")
    started = time.monotonic()
    with Server(settings, tmp_path, **SERVER) as server, server.client(other, timeout=5) as reads, \
            server.client(timeout=5) as health:
        with server.client(flooder) as http:
            setup_facility(http)
            beyond = http.get("/v1/central/2026").json()["as_of_position"] + 1000
        p95s(health, reads)  # warm
        before = p95s(health, reads)
        context = multiprocessing.get_context("spawn")
        running, stopping, results = context.Event(), context.Event(), context.Queue()
        flooding = context.Process(target=flood, args=(server.port, flooder, beyond, running, stopping, results),
                                   daemon=True)
        flooding.start()
        try:
            assert running.wait(timeout=20)
            time.sleep(SETTLE_SECONDS)
            windows = [p95s(health, reads) for _ in range(WINDOWS)]
        finally:
            stopping.set()
            try:
                seen = Counter(results.get(timeout=60))
            except queue.Empty:
                seen = Counter({"the flooding process failed": 1})
            flooding.join(timeout=10)
            if flooding.is_alive():
                flooding.kill()
        after = p95s(health, reads)
        log = server.log()
        workers = children(server.process.pid)  # the spreadsheet workers, among others
    assert workers and ended(workers), workers  # the server was killed: its workers ended with it
    normal_live, normal_read = max(before[0], after[0]), max(before[1], after[1])
    flooded_live, flooded_read = min(live for live, _ in windows), min(read for _, read in windows)
    assert flooded_live <= 3 * normal_live, (before, after, windows, seen)
    assert flooded_read <= 3 * normal_read, (before, after, windows, seen)
    assert seen["slow header connections"] >= SLOW_HEADERS and seen["closed by the server"] >= SLOW_HEADERS, seen
    assert seen["slow body 408"] >= SLOW_BODIES, seen
    assert seen["waiting read 409"] >= WAITING_READS and seen["export 200"] >= 2 and seen["export 429"] >= 3, seen
    assert set(seen) <= {"slow header connections", "closed by the server", "slow body 408", "waiting read 409",
                         "export 200", "export 429"}, seen
    server_lines = [line for line in log.splitlines() if '"logger": "ledger.access"' not in line]
    assert len(server_lines) < 20, server_lines[-5:]  # a request is logged once; a slow connection never
    assert time.monotonic() - started < 60


OPEN_FILES = 200
"""The open-files limit (soft and hard) of the server in the next test: fewer than its slow connections."""


def test_slow_connections_beyond_the_open_files_limit_are_closed_and_their_warnings_logged_once(settings, tmp_path):
    import resource
    import socket
    import subprocess

    from tests.e2e.server import LEDGER, ledger_env
    from tests.e2e.test_serve import free_port

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))

    token(settings, "admin", "migrates-the-store")
    port, log_path = free_port(), tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([LEDGER, "serve", "--port", str(port)], cwd=tmp_path, stderr=log,
                                  stdout=subprocess.DEVNULL, preexec_fn=limited,
                                  env=ledger_env(settings, LEDGER_HEADER_TIMEOUT_SECONDS="2"))
    slow: list[socket.socket] = []
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                assert httpx.get(f"{base}/health/live", timeout=1).status_code == 200
                break
            except httpx.TransportError:
                time.sleep(0.1)
        for _ in range(OPEN_FILES + 100):
            connection = socket.create_connection(("127.0.0.1", port))
            connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: ledger\r\n")
            slow.append(connection)
        started = time.monotonic()
        answer = httpx.get(f"{base}/health/live", timeout=15)
        waited = time.monotonic() - started
        assert answer.status_code == 200 and waited < 10, waited  # once the header timeout freed descriptors
        time.sleep(3)  # every slow connection has met the header timeout, the last ones after the first freed
    finally:
        for connection in slow:
            connection.close()
        server.terminate()
        server.wait(timeout=30)
    lines = log_path.read_text().splitlines()
    refused = [line for line in lines if "out of system resource" in line]
    assert 1 <= len(refused) <= 3, len(refused)  # it happened, and was written once per window
    assert len("\n".join(lines)) < 50_000
