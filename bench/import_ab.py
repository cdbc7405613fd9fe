"""`python -m bench.import_ab FILE ROOT [ROOT ...] --rounds 3 --store sqlite|postgresql`: an A/B
of the import's decision and storage path (docs/adr/0037) between checkouts of the project
(e.g. `git archive <commit> | tar -x -C /tmp/before` and this worktree).

Each round runs, for each ROOT in turn, `service.importer.import_lines` of FILE (JSON Lines,
e.g. the first 30 000 lines of a generated history) in a fresh process on a fresh store, with
that checkout's code and the `ledger` command's collector thresholds, and prints the commands
per second and the process's CPU per command. The CPU per command is the steadier figure on a
shared machine: the rounds take turns, so a busier minute does not fall on one side only.
Start-up (imports, migrations) is outside the timed part, unlike `ledger import`'s figure in
the main run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from bench.store import POSTGRES_URL, conninfo

ONE = """
import gc, os, sys, tempfile, time, uuid
root, file, store, url, info = sys.argv[1:6]
sys.path.insert(0, root)
from service.cli import GC_THRESHOLDS
gc.set_threshold(*GC_THRESHOLDS)
from service.db import migrate
from service.importer import import_lines
from service.ledger import Actor, BudgetLedger
from service.settings import Settings
schema = "public"
if store == "sqlite":
    settings = Settings(database_url=f"sqlite:///{tempfile.mkdtemp(prefix='import-ab-')}/ledger.sqlite")
else:
    import psycopg
    schema = "import_ab_" + uuid.uuid4().hex[:8]
    with psycopg.connect(info, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    settings = Settings(database_url=url, database_schema=schema)
try:
    migrate(settings)
    ledger = BudgetLedger(settings)
    wall, cpu = time.perf_counter(), time.process_time()
    with open(file, encoding="utf-8") as lines:
        result = import_lines(ledger, lines, Actor("import", "admin"))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ledger.close()
    print(f"{root}: {result.commands / wall:.0f} commands/s, wall {wall:.1f} s, CPU {cpu:.1f} s = "
          f"{cpu / result.commands * 1e6:.0f} µs per command; load average {os.getloadavg()[0]:.1f}", flush=True)
finally:
    if store != "sqlite":
        with psycopg.connect(info, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')
"""

app = typer.Typer(add_completion=False)


@app.command()
def main(file: Path = typer.Argument(..., exists=True), roots: list[Path] = typer.Argument(...),
         rounds: int = typer.Option(3, min=1), store: str = typer.Option("sqlite")) -> None:
    if store not in ("sqlite", "postgresql"):
        raise typer.BadParameter("store must be sqlite or postgresql", param_hint="--store")
    for round_ in range(rounds):
        for root in roots:
            print(f"round {round_ + 1} ", end="", flush=True)
            subprocess.run([sys.executable, "-c", ONE, str(root.resolve()), str(file.resolve()), store, POSTGRES_URL,
                            conninfo()], check=True, cwd=root)


if __name__ == "__main__":
    app()
