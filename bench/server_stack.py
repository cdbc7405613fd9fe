"""`python -m bench.server_stack --store sqlite --rounds 3 --requests 1500`: the A/B of
`ledger serve`'s event loop and HTTP parser (docs/adr/0029).

The same `service.api.server.run` serves with each stack in turn: asyncio with h11, asyncio with
httptools, uvloop with httptools. One client sends, over one keep-alive connection, the same
requests to each: `GET /health/live` (the HTTP stack and the middleware alone), a move-in
refused with 422 for an effective date that is not a date (the token's look-up, the body's
reading and validation, problem+json: the floor of a command), and move-ins of new citizens
(the whole command; nothing projects). For each, the service's CPU per request (user + system
time of its process, /proc/<pid>/stat) and the client's mean and p95 latency. The stacks take
turns within each round, in an order that rotates each round, so a slower minute of a shared
machine does not fall on one stack only. The store is fresh for each server: a move-in costs
the same whatever came before it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import typer

from bench.server import free_port
from bench.store import POSTGRES_URL

STACKS = {"asyncio+h11": ("asyncio", "h11"), "asyncio+httptools": ("asyncio", "httptools"),
          "uvloop+httptools": ("uvloop", "httptools")}
KINDS = ("live", "refused", "move_in")
TICKS = os.sysconf("SC_CLK_TCK")

app = typer.Typer(add_completion=False)


def serve() -> None:
    """The server process: `run` with the stack named in argv (loop, parser, port)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from service.api.server import run
    from service.settings import Settings

    loop, parser, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    run(Settings(), "127.0.0.1", port, loop=loop, parser=H11Protocol if parser == "h11" else HttpToolsProtocol)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def store_env(store: str, directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")} | {"LEDGER_PROJECTOR": "external"}
    if store == "sqlite":
        return env | {"LEDGER_DATABASE_URL": f"sqlite:///{directory / 'ledger.sqlite'}"}
    return env | {"LEDGER_DATABASE_URL": POSTGRES_URL, "LEDGER_DATABASE_SCHEMA": f"stack_{uuid.uuid4().hex[:10]}"}


def one_stack(stack: str, store: str, requests: int) -> dict[str, dict[str, float]]:
    from service.auth import create_token
    from service.db import make_engine, migrate
    from service.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp:
        env = store_env(store, Path(tmp))
        settings = Settings(database_url=env["LEDGER_DATABASE_URL"],
                            database_schema=env.get("LEDGER_DATABASE_SCHEMA", "public"))
        migrate(settings)
        engine = make_engine(settings)
        token = create_token(engine, "admin", "stack-bench")
        engine.dispose()
        loop, parser = STACKS[stack]
        port = free_port()
        server = subprocess.Popen([sys.executable, "-c", "from bench.server_stack import serve; serve()", loop, parser,
                                   str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"})
            for _ in range(300):
                try:
                    if http.get("/health/live").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            facility = "F-STACK"
            http.post("/v1/facilities", json={"code": facility, "name": "Bo", "kind": "botilbud", "area": "Grenaa",
                                              "places": 500}).raise_for_status()
            levels = [{"level": i + 1, "min_hours": str(2 * i), "max_hours": str(2 * i + 2) if i < 7 else "24",
                       "daily_rate": "1000.00"} for i in range(8)]
            http.put("/v1/tariff-schedules/2026", json={"levels": levels, "special_tariffs": [], "hourly_rate": "420.00",
                                                        "runoff_months": 1}).raise_for_status()
            figures = {kind: measure(http, server.pid, kind, facility, requests) for kind in KINDS}
            http.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
            if store == "postgresql":
                import psycopg

                with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
                    connection.execute(f'DROP SCHEMA IF EXISTS "{settings.database_schema}" CASCADE')
    return figures


def measure(http: httpx.Client, pid: int, kind: str, facility: str, requests: int) -> dict[str, float]:
    def send(i: int | str) -> int:
        if kind == "live":
            return http.get("/health/live").status_code
        date = "2026-02-30" if kind == "refused" else "2026-03-10"
        return http.post(f"/v1/citizens/STACK-{kind[0]}{i}/move-in", headers={"Idempotency-Key": str(uuid.uuid4())},
                         json={"facility": facility, "effective_date": date, "paying_municipality": "707",
                               "assessment": {"hours_per_day": "4.5"}}).status_code

    expected = {"live": 200, "refused": 422, "move_in": 201}[kind]
    for i in range(50):  # warm-up
        assert send(f"W{i}") == expected
    latencies = []
    before = cpu_seconds(pid)
    for i in range(requests):
        started = time.perf_counter()
        status = send(i)
        latencies.append(time.perf_counter() - started)
        assert status == expected, status
    cpu = cpu_seconds(pid) - before
    return {"cpu_ms": 1000 * cpu / requests, "mean_ms": 1000 * statistics.fmean(latencies),
            "p95_ms": 1000 * statistics.quantiles(latencies, n=20)[-1]}


@app.command()
def main(store: str = typer.Option("sqlite"), rounds: int = typer.Option(3), requests: int = typer.Option(1500)) -> None:
    names = list(STACKS)
    results: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name in names}
    for round_ in range(rounds):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            figures = one_stack(name, store, requests)
            results[name].append(figures)
            print(f"round {round_ + 1} {name:18} load {os.getloadavg()[0]:.1f} " + "  ".join(
                f"{k}: cpu {v['cpu_ms']:.2f} mean {v['mean_ms']:.2f} p95 {v['p95_ms']:.2f}" for k, v in figures.items()),
                flush=True)
    print(f"\nmedian over {rounds} rounds, {requests} requests each ({store}): service CPU ms / request, mean and p95 ms")
    for name in names:
        cells = []
        for kind in KINDS:
            runs = [r[kind] for r in results[name]]
            cells.append(f"{kind}: {statistics.median(r['cpu_ms'] for r in runs):.2f} / "
                         f"{statistics.median(r['mean_ms'] for r in runs):.2f} / "
                         f"{statistics.median(r['p95_ms'] for r in runs):.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    app()
