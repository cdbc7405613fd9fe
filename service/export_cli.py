"""`ledger export central|statement|regulation|what-if`: the central model, a statement, a closed
year's regulation or a year's what-if as a spreadsheet.

A read of the read models from the command line is as consistent as one through HTTP: it is
as of a recorded position (the latest, `--as-of` an instant, or `--as-of-position`), and the
projections are brought to that position first: with the embedded projector (the default,
where no other process may be projecting) the command projects what is missing itself, as
`ledger project` does; with `LEDGER_PROJECTOR=external` it waits for `ledger project
--follow` up to `LEDGER_READ_WAIT_SECONDS`, and fails naming the lag rather than write
figures that lag.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import typer
from rich.console import Console
from rich.markup import escape

from domain.values import FIRST_YEAR, LAST_YEAR
from service.cli_names import recorded_name
from service.settings import Settings

export_app = typer.Typer(help="Write the central model, a statement, a regulation or a what-if as a spreadsheet "
                         "(xlsx or csv).",
                         no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
CLI_READER = "ledger export"
"""The reader a statement's citizen reads are logged under by default (role finance)."""

FormatOption = typer.Option("xlsx", "--format", help="xlsx (Excel workbook) or csv (Danish Excel: ';', decimal comma)")
OutputOption = typer.Option(None, "--output", "-o", dir_okay=False, help="The file to write (default: a name like "
                            "central-2026.xlsx in the current directory)")
ForceOption = typer.Option(False, "--force", help="Overwrite the file if it exists (never through a symbolic link)")
AsOfOption = typer.Option(None, "--as-of", help="Read as recorded at this instant (ISO 8601 with offset)")
AsOfPositionOption = typer.Option(None, "--as-of-position", min=0, help="Read as of this store position")


@export_app.command("central")
def central(year: int = typer.Option(..., min=FIRST_YEAR, max=LAST_YEAR, help="The budget year"),
            month: int | None = typer.Option(None, min=1, max=12, help="A month of the year (the whole year without)"),
            fmt: str = FormatOption, output: Path | None = OutputOption, as_of: str | None = AsOfOption,
            as_of_position: int | None = AsOfPositionOption, force: bool = ForceOption) -> None:
    """Write the central budget model (every facility, as GET /v1/central/{year}) as a spreadsheet."""
    from service import export
    from service.queries.central import central_model
    from service.queries.values import public

    _check_format(fmt)

    def render(ledger: Any, position: int, latest: int) -> tuple[bytes, str]:
        body = public(central_model(ledger, year, month, position))
        return export.RENDERERS["central", fmt](body), export.central_filename(year, month, fmt)

    _write(render, output, as_of, as_of_position, needs_latest=False, force=force)


@export_app.command("statement")
def statement(municipality: str = typer.Option(..., help="The paying municipality's code, e.g. 751 (Aarhus)"),
              year: int = typer.Option(..., min=FIRST_YEAR, max=LAST_YEAR, help="The year"),
              month: int = typer.Option(..., min=1, max=12, help="The month"),
              fmt: str = FormatOption, output: Path | None = OutputOption, as_of: str | None = AsOfOption,
              as_of_position: int | None = AsOfPositionOption, force: bool = ForceOption,
              actor: str = typer.Option(CLI_READER, callback=recorded_name, help="Recorded as the reader of the citizens' rows (with the "
                                        "role finance)")) -> None:
    """Write a statement for a buying municipality (as GET /v1/statements/...) as a spreadsheet.

    Its citizens are logged as read (GET /v1/audit/citizen-reads) by `--actor` (default "ledger
    export") with the role finance, the role that reads statements through the API, through
    the resource "ledger export statement <municipality> <year> <month>"."""
    from service import export
    from service.queries.statements import log_statement_reads, statement_body
    from service.queries.values import public
    from service.ledger import Actor
    from service.projection import ProjectionStatus

    _check_format(fmt)
    _check_municipality(municipality)

    def render(ledger: Any, position: int, latest: int) -> tuple[bytes, str]:
        status = ProjectionStatus(ledger.settings)
        try:
            found = statement_body(ledger, municipality, year, month, position, status)
        finally:
            status.close()
        log_statement_reads(ledger, Actor(actor, "finance"), f"ledger export statement {municipality} {year} {month}",
                            found.citizen_refs())
        return (export.RENDERERS["statement", fmt](public(found)),
                export.statement_filename(municipality, year, month, fmt))

    _write(render, output, as_of, as_of_position, needs_latest=True, force=force)


@export_app.command("regulation")
def regulation(year: int = typer.Option(..., min=FIRST_YEAR, max=LAST_YEAR, help="The closed accounting year"),
               fmt: str = FormatOption, output: Path | None = OutputOption, as_of: str | None = AsOfOption,
               as_of_position: int | None = AsOfPositionOption, force: bool = ForceOption) -> None:
    """Write the regulation of a closed year (as GET /v1/regulation/{year}) as a spreadsheet."""
    from service import export
    from service.queries.regulation import regulation_body
    from service.queries.values import public

    _check_format(fmt)

    def render(ledger: Any, position: int, latest: int) -> tuple[bytes, str]:
        body = public(regulation_body(ledger, year, position))
        return export.RENDERERS["regulation", fmt](body), export.regulation_filename(year, fmt)

    _write(render, output, as_of, as_of_position, needs_latest=False, force=force)


@export_app.command("what-if")
def what_if(year: int = typer.Option(..., min=FIRST_YEAR, max=LAST_YEAR, help="The year to replay"),
            draft: Path = typer.Option(..., "--draft", exists=True, dir_okay=False, help="A JSON file with the draft "
                                       "schedule, as the body of POST /v1/regulation/{year}/what-if"),
            fmt: str = FormatOption, output: Path | None = OutputOption, as_of: str | None = AsOfOption,
            as_of_position: int | None = AsOfPositionOption, force: bool = ForceOption) -> None:
    """Write the what-if of a year with a draft schedule (as POST /v1/regulation/{year}/what-if)
    as a spreadsheet. Records nothing."""
    import json

    from pydantic import ValidationError

    from service import export
    from service.queries.values import public
    from service.queries.what_if import WhatIfPut, what_if_of_draft

    _check_format(fmt)
    try:
        body = WhatIfPut.model_validate(json.loads(draft.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as refused:
        raise typer.BadParameter(f"not a draft schedule: {escape(str(refused))}", param_hint="--draft") from None

    def render(ledger: Any, position: int, latest: int) -> tuple[bytes, str]:
        replayed = public(what_if_of_draft(ledger, year, position, body))
        return export.RENDERERS["what_if", fmt](replayed), export.what_if_filename(year, fmt)

    _write(render, output, as_of, as_of_position, needs_latest=False, force=force)


def _check_format(fmt: str) -> None:
    from service.export import FORMATS

    if fmt not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")


def _check_municipality(code: str) -> None:
    """A buying municipality's code, one of the register's but Norddjurs (it names the file,
    so nothing else passes)."""
    from domain.errors import InvalidValue
    from domain.values import NORDDJURS, check_municipality

    try:
        check_municipality(code, "municipality")
    except InvalidValue as refused:
        raise typer.BadParameter(f"{refused.message} ({refused.rule})", param_hint="--municipality") from None
    if code == NORDDJURS:
        raise typer.BadParameter("707 is Norddjurs itself: statements are for the municipalities that buy places",
                                 param_hint="--municipality")


def _write(render: Callable[[Any, int, int], tuple[bytes, str]], output: Path | None, as_of: str | None,
           as_of_position: int | None, needs_latest: bool, force: bool) -> None:
    from domain.errors import DomainError
    from service.db import migrate
    from service.ledger import BudgetLedger, Timeline
    from service.projection import ProjectionLagging

    if output is not None:
        _refuse(check_target(output, force))  # before the work: the same checks hold when writing
    settings = Settings()
    migrate(settings)
    ledger = BudgetLedger(settings)
    try:
        timeline = Timeline(ledger.engine)
        position = read_position(timeline, as_of, as_of_position, settings.future_position_wait_seconds)
        latest = timeline.max_position()
        try:
            with err.status("bringing the read models up to date"):
                bring_projections_to(settings, latest if needs_latest else position)
            content, name = render(ledger, position, latest)
        except ProjectionLagging as lagging:
            err.print(f"[red]export failed[/red]: {lagging} (is `ledger project --follow` running?)")
            raise typer.Exit(1) from None
        except DomainError as error:
            err.print(f"[red]export failed[/red]: {error.field}: {error.message} ({error.rule})")
            raise typer.Exit(2) from None
    finally:
        ledger.close()
    target = output or Path(name)
    _refuse(write_file(target, content, force))
    err.print(f"[green]wrote[/green] {target} (as of store position {position})")


def check_target(target: Path, force: bool) -> str | None:
    """Why `target` may not be written (None: it may): a symbolic link, a file that exists
    (without `force`), something not a file, or a folder that does not exist."""
    if target.is_symlink():
        return f"{target} is a symbolic link: write to the file itself"
    if target.exists() and not target.is_file():
        return f"{target} exists and is not a file"
    if target.exists() and not force:
        return f"{target} exists: give --force to overwrite it"
    if not target.parent.is_dir():
        return f"the folder {target.parent} does not exist"
    return None


def write_file(target: Path, content: bytes, force: bool) -> str | None:
    """Write `content` to `target` (readable by its owner only: a statement names citizens),
    never through a symbolic link, and over an existing file only with `force`; the reason it
    could not be written, or None. The checks are made by the open itself (O_EXCL, O_NOFOLLOW),
    so a link or file that appeared since `check_target` is refused too."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if force else os.O_EXCL)
    try:
        handle = os.open(target, flags, 0o600)
    except OSError as refused:
        return check_target(target, force) or f"{target} cannot be written: {refused.strerror}"
    with os.fdopen(handle, "wb") as file:
        file.write(content)
    return None


def _refuse(reason: str | None) -> None:
    if reason is not None:
        err.print(f"[red]export failed[/red]: {escape(reason)}")
        raise typer.Exit(1)


def read_position(timeline: Any, as_of: str | None, as_of_position: int | None, wait_seconds: float) -> int:
    """The recorded position a read is as of, by the API's own rule
    (service/queries/positions.py `position_as_of`): an instant in the future or a position not
    yet recorded is refused (its answer could still change), named by its option."""
    from domain.errors import DomainError
    from service.queries.positions import position_as_of

    hint = "--as-of" if as_of is not None else "--as-of-position"
    try:
        instant = None if as_of is None else datetime.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter("must be an instant, e.g. 2026-04-01T12:00:00+02:00", param_hint=hint) from None
    try:
        position = position_as_of(timeline, instant, as_of_position, wait_seconds)
    except DomainError as refused:  # an instant out of bounds (domain.md §3), a position not recorded yet
        raise typer.BadParameter(refused.message, param_hint=hint) from None
    return timeline.max_position() if position is None else position


def bring_projections_to(settings: Settings, position: int) -> None:
    """Make the read models reach `position`: project the missing events here (embedded
    projector), or wait for the external projector; ProjectionLagging when they do not."""
    from service.projection import ProjectionConflict, ProjectionStatus, Projector

    status = ProjectionStatus(settings)
    try:
        if status.reached() < position and settings.projector == "embedded":
            projector = Projector(settings)
            try:
                projector.load()
                projector.catch_up()
            except ProjectionConflict:
                pass  # a service on the same store projected meanwhile: wait for it below
            finally:
                projector.close()
        status.wait(position, settings.read_wait_seconds)
    finally:
        status.close()
