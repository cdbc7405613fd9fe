"""The HTTP + library floor (issue 20, docs/adr/0037): the library's load-and-save loop of
bench/baselines.py behind a minimal FastAPI app, served the way `ledger serve` serves the
ledger, and driven by the very client of the command benchmark (`bench.commands.CommandClient`).

- The app has one route per command the benchmark sends, at the ledger's paths (move-in,
  reassessment, move-out of `/v1/citizens/{ref}/...`). Each reads the JSON body and does what
  `bench.baselines.RawClient` does for that phase: load the citizen's placement (or find it
  missing), decide, save, in the raw store; it answers 201 with a small JSON body. Like the
  ledger's routes it is a plain `def`, so it runs in FastAPI's thread pool. It checks no token,
  keeps no idempotency record and projects nothing: that is the ledger's work, which the floor
  leaves out.
- The server is `service.api.server.run` itself, with the floor's app in place of the ledger's:
  the same uvicorn, event loop, HTTP parser (httptools) with its header timeout, keep-alive and
  shutdown settings, log configuration and open-files limit, read from the same `LEDGER_*`
  environment as `ledger serve` (docs/adr/0029).

So the ratio of the ledger's HTTP commands to the floor, in the same run, is the share of the
HTTP + library cost that the ledger's own work (rules, token, idempotency, index, chain,
projection) leaves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import httpx
from eventsourcing.application import AggregateNotFoundError
from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

from bench.baselines import Placement, RawLedger
from bench.server import ProductFailed, free_port
from service.commands.declarations import MoveIn, MoveOut, Reassess

ENV = "BENCH_FLOOR_LIBRARY_ENV"
"""The raw store's library configuration, as JSON, for the floor's server process."""


def create_floor_app(env: dict[str, str]) -> FastAPI:
    """The floor's app on the raw store of `env` (the library's configuration)."""
    app = FastAPI(title="HTTP + library floor", docs_url=None, redoc_url=None, openapi_url=None)
    ledger = RawLedger(env=env)

    def step(ref: str, decide: Callable[[Placement | None], Placement]) -> JSONResponse:
        originator = Placement.create_id(ref)
        try:
            placement: Placement | None = ledger.repository.get(originator)
        except AggregateNotFoundError:
            placement = None
        try:
            placement = decide(placement)
        except LookupError as refused:
            return JSONResponse({"detail": str(refused)}, status_code=409)
        recordings = ledger.save(placement)
        return JSONResponse({"citizen_ref": ref, "position": recordings[-1].notification.id}, status_code=201)

    def move_in(placement: Placement | None, ref: str, body: dict[str, Any]) -> Placement:
        if placement is not None:
            raise LookupError(f"{ref} exists already")
        return Placement(ref=ref, facility=str(body.get("facility")), hours="5.5")

    def reassess(placement: Placement | None, ref: str) -> Placement:
        if placement is None:
            raise LookupError(f"{ref} is missing")
        placement.reassess("7.5")
        return placement

    def move_out(placement: Placement | None, ref: str) -> Placement:
        if placement is None:
            raise LookupError(f"{ref} is missing")
        placement.move_out()
        return placement

    @app.post(MoveIn.spec.path)
    def floor_move_in(ref: str, body: dict[str, Any] = Body()) -> JSONResponse:
        return step(ref, lambda placement: move_in(placement, ref, body))

    @app.post(Reassess.spec.path)
    def floor_reassess(ref: str, body: dict[str, Any] = Body()) -> JSONResponse:
        return step(ref, lambda placement: reassess(placement, ref))

    @app.post(MoveOut.spec.path)
    def floor_move_out(ref: str, body: dict[str, Any] = Body()) -> JSONResponse:
        return step(ref, lambda placement: move_out(placement, ref))

    @app.get("/health/live")
    def live() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.state.ledger = ledger
    return app


def serve(port: int) -> None:
    """The floor's server process: `service.api.server.run`, serving the floor's app."""
    from service.api import server
    from service.settings import Settings

    env = json.loads(os.environ[ENV])
    server.create_app = lambda _settings: create_floor_app(env)  # type: ignore[assignment]
    server.run(Settings(), "127.0.0.1", port)


class Floor:
    """The floor's server as a subprocess on a free port, with the `LEDGER_*` environment of the
    product's `ledger serve` (`product_env`) and the raw store of `library_env`."""

    def __init__(self, product_env: dict[str, str], library_env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log = log.open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "bench.floor", str(self.port)],
                                        env={**product_env, ENV: json.dumps(library_env)},
                                        cwd=Path(__file__).parent.parent, stdout=self._log, stderr=subprocess.STDOUT)

    def __enter__(self) -> "Floor":
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 60) -> None:
        began = time.perf_counter()
        with httpx.Client(base_url=self.base, timeout=5) as http:
            while time.perf_counter() - began < timeout:
                if self.process.poll() is not None:
                    raise ProductFailed(f"the floor's server exited {self.process.returncode}:\n"
                                        + self.log.read_text(errors="replace")[-3000:])
                try:
                    if http.get("/health/live").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise ProductFailed(f"the floor's server did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
