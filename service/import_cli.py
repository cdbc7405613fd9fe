"""`ledger import` of the old model's CSV, and `ledger import --dry-run` (for both formats).

The old model's file is checked whole before anything is stored (service/import_check.py):
when any row is refused, nothing is stored and every refused row is listed with its line,
column and rule. Then its commands go through the import of JSON Lines (service/importer.py)
as one batch, stored in one transaction whatever `--batch-size` says: a row refused at
store time (another writer moved the citizen in meanwhile) leaves nothing of the file
stored, so a migration never lands half. A migration is the municipality's current
citizens, a few hundred rows, so one transaction is small.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.console import Console

from service.settings import Settings

if TYPE_CHECKING:
    from service.ledger import Actor, BudgetLedger

err = Console(stderr=True, soft_wrap=True)
FORMATS = ("auto", "jsonl", "old-model-csv")


def import_format(file: Path, chosen: str) -> str:
    """The file's format: as chosen, or by the extension (`.csv`: the old model's citizens)."""
    if chosen != "auto":
        return chosen
    return "old-model-csv" if file.suffix.lower() == ".csv" else "jsonl"


def schema_problem(settings: Settings) -> str | None:
    """Why the store's schema is not the one this version reads (None: it is at Alembic's head)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from service.db import alembic_config, make_engine

    if settings.store == "sqlite" and not settings.sqlite_path.exists():
        return f"there is no store at {settings.sqlite_path}"
    schema = settings.database_schema if settings.store == "postgresql" else None
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection, opts={"version_table_schema": schema})
                          .get_current_heads())
    finally:
        engine.dispose()
    heads = set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
    if not current:
        return "the store has no schema yet"
    if current != heads:
        return f"the store's schema is at revision {', '.join(sorted(current))}, not {', '.join(sorted(heads))}"
    return None


def run(file: Path, kind: str, dry_run: bool, batch_size: int, skip: int, actor_name: str) -> int:
    """Check (and unless a dry run, import) the file; the exit code. An import brings the
    schema up to date first; a dry run changes nothing, not even the schema: on a store whose
    schema is missing or outdated it says so and exits 1 (run `ledger migrate` first).
    `batch_size` does not apply: an old model's file is stored in one transaction."""
    from service.db import migrate
    from service.import_check import check_lines
    from service.ledger import Actor, BudgetLedger
    from service.old_model import read_old_model

    settings = Settings()
    if not dry_run:
        migrate(settings)
    elif (problem := schema_problem(settings)) is not None:
        err.print(f"[red]dry run refused[/red]: {problem}; a dry run changes nothing, so it does not migrate: "
                  "run `ledger migrate` first")
        return 1
    ledger = BudgetLedger(settings)
    actor = Actor(actor_name, "admin")
    try:
        if kind == "old-model-csv":
            parsed = read_old_model(file)
            lines, header_of = parsed.lines, parsed.header_of
            refusals = [r for r in parsed.refusals if r.line > skip]
            if parsed.encoding != "utf-8":
                err.print(f"the file is not UTF-8: read as {parsed.encoding}")
        else:
            try:
                lines = file.read_text("utf-8").splitlines()
            except UnicodeDecodeError:
                err.print("[red]import failed[/red]: the file is not UTF-8 text")
                return 1
            header_of, refusals = (lambda name: name), []
        with err.status(f"checking {len(lines)} lines against the ledger's rules"):
            report = check_lines(ledger, lines, actor, skip=skip)
        refusals = sorted(refusals + [replace(r, field=header_of(r.field)) for r in report.refusals],
                          key=lambda r: r.line)
        if dry_run:
            err.print("[bold]dry run[/bold]: nothing was recorded")
            err.print(f"would record {report.commands} commands ({report.events} events) from {report.lines} lines")
            for (command, facility), count in sorted(report.would_record.items(), key=lambda i: (i[0][1], i[0][0])):
                err.print(f"  {facility or '(no facility)'}: {count} {command}")
            if report.capacity_warnings:
                err.print(f"[yellow]capacity warnings[/yellow] ({len(report.capacity_warnings)} month(s) with more "
                          "citizens than places after this file):")
                for warning in report.capacity_warnings:
                    err.print(f"  {warning}")
        if refusals:
            what = "would refuse" if dry_run else "refused (nothing was stored)"
            err.print(f"[red]{what} {len(refusals)} line(s)[/red]:")
            for refusal in refusals:
                err.print(f"  {refusal}")
            return 1
        if dry_run:
            return 0
        return _store(ledger, lines, actor, skip, header_of)
    finally:
        ledger.close()


def _store(ledger: BudgetLedger, lines: list[str], actor: Actor, skip: int,
           header_of: Callable[[str | None], str | None]) -> int:
    """Store the old model's commands in one transaction: all of them, or none."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from service.importer import ImportFailed, import_lines

    try:
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=err) as progress:
            task = progress.add_task("import", total=len(lines))
            result = import_lines(ledger, lines, actor, batch_size=max(len(lines), 1), skip=skip,
                                  progress=lambda line: progress.update(task, completed=line))
    except ImportFailed as failed:
        field = header_of(failed.field)
        err.print(f"[red]import failed (nothing was stored)[/red]: line {failed.line}"
                  + (f", field {field}" if field else "") + f": {failed.message} ({failed.rule})")
        return 1
    err.print(f"[green]imported[/green] {result.commands} commands ({result.events} events) from "
              f"{result.lines} lines; store position {result.last_position}")
    return 0
