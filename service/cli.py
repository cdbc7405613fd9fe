"""The `ledger` command: serve, tokens, migrations, projections.

It reads `LEDGER_DATABASE_URL` (default: an SQLite file under ./var/).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from service.cli_names import recorded_name
from service.export_cli import export_app
from service.settings import Settings

app = typer.Typer(help="The budget ledger of the resource allocation model.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(export_app, name="export")
err = Console(stderr=True)


def port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (None: it can). Bound as uvicorn binds it
    (SO_REUSEADDR, so a closed connection's TIME_WAIT does not count) and released at once."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as unknown:
        return f"{host} is not an address to listen on ({unknown.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as refused:
            return f"port {port} on {host} is busy ({refused.strerror})"
    return None


def require_free_port(host: str, port: int) -> None:
    """Stop with one clear line (exit 2) when the port cannot be listened on, before anything
    is loaded or any token printed."""
    problem = port_in_use(host, port)
    if problem is not None:
        err.print(f"[red]cannot serve[/red]: {problem}; stop what uses it or choose another port "
                  f"(--port, or make serve PORT=...)", soft_wrap=True, highlight=False)
        raise typer.Exit(2)


@app.command()
def migrate() -> None:
    """Create or update the store's tables (the library's, then Alembic's)."""
    from service.db import migrate as run

    settings = Settings()
    run(settings)
    err.print(f"[green]store up to date[/green] ({settings.store})")


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
          port: int = typer.Option(8000, help="Port to listen on"),
          issue_tokens: bool = typer.Option(False, help="On a first run (no live token in the store): create one "
                                            "admin token and print it on stdout")) -> None:
    """Run the HTTP service."""
    from service.api.server import run as run_server
    from service.db import migrate as run

    require_free_port(host, port)
    settings = Settings()
    run(settings)
    err.print(f"Budget ledger on [bold]http://{host}:{port}/docs[/bold]  (store: {settings.store})")
    if issue_tokens:
        issue_first_token(settings)
    run_server(settings, host, port)  # JSON logs; on SIGTERM finishes the requests in flight, exits 0


FIRST_TOKEN_NAME = "local-admin"


def issue_first_token(settings: Settings) -> None:
    """A first run's token: when the store has no live token, create one admin token and print
    it on stdout as `admin token: lt_...` (never into the log stream on stderr); otherwise
    create nothing (`ledger token create` makes more, for each role)."""
    from sqlalchemy import func, select

    from service.auth import create_token
    from service.db import api_tokens, make_engine

    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            live = connection.execute(select(func.count()).select_from(api_tokens)
                                      .where(api_tokens.c.revoked_at.is_(None))).scalar_one()
        if live:
            err.print(f"  the store has {live} live token(s): none issued (make one with `ledger token create`)")
            return
        print(f"admin token: {create_token(engine, 'admin', FIRST_TOKEN_NAME)}", flush=True)
    finally:
        engine.dispose()
    err.print("  Use it as: curl -H 'Authorization: Bearer <token>' ...  (or Authorize in /docs)")


DEMO_BUYER = "751"
"""The municipality the demo's buyer token reads for: Aarhus, which buys places in the demo."""


@app.command()
def demo(host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
         port: int = typer.Option(8000, help="Port to listen on"),
         serve_it: bool = typer.Option(True, "--serve/--no-serve", help="Start the service after loading")) -> None:
    """Load a demo municipality (into an empty store), print a token per role and where to open
    the service, and start it."""
    from domain.municipalities import official_name
    from service.auth import BUYER, ROLES, create_token
    from service.db import migrate as run
    from service.demo import corrections, lines
    from service.importer import import_lines
    from service.ledger import Actor, BudgetLedger, Timeline
    from service.projection import Projector

    if serve_it:
        require_free_port(host, port)
    settings = Settings()
    run(settings)
    ledger = BudgetLedger(settings)
    try:
        if Timeline(ledger.engine).max_position() == 0:
            demo_lines = lines()
            with err.status(f"loading the demo municipality ({len(demo_lines)} commands)"):
                result = import_lines(ledger, demo_lines, Actor("demo-loader", "admin"))
                fixed = corrections(ledger, Actor("demo-sagsbehandler", "admin"))
            err.print(f"[green]loaded[/green] {result.commands} commands and {fixed} corrections")
        else:
            err.print("the store already holds events: the demo is not loaded again")
        tokens = {role: create_token(ledger.engine, role, f"demo-{role}", DEMO_BUYER if role == BUYER else None)
                  for role in ROLES}
    finally:
        ledger.close()
    projector = Projector(settings, batch_size=2000)
    try:
        with err.status("projecting the budgets, statements and facts"):
            projector.catch_up()  # so the first page is answered at once
    finally:
        projector.close()
    err.print(f"Budget ledger on [bold]http://{host}:{port}/docs[/bold]  (store: {settings.store})")
    err.print(f"Web UI: open [bold]http://{host}:{port}/ui[/bold] in a browser and log in with the finance token below",
              soft_wrap=True)
    err.print(f"  (the buyer token reads for {official_name(DEMO_BUYER)} ({DEMO_BUYER}): its statements and citizens)",
              soft_wrap=True)
    for role, token in tokens.items():
        err.print(f"  {role:<10} token: {token}", soft_wrap=True)
    err.print(f"  Try: curl -H 'Authorization: Bearer <finance token>' http://{host}:{port}/v1/central/2026",
              soft_wrap=True)
    if serve_it:
        from service.api.server import run as run_server

        run_server(settings, host, port)


@app.command()
def rebuild() -> None:
    """Rebuild every projection from the store, with a progress bar.

    The rebuild projects into new tables while the current read models keep answering, and
    switches to the new ones in one transaction at the end; a rebuild that fails or is killed
    leaves the current read models serving (docs/adr/0034)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from service.db import migrate as run
    from service.ledger import Timeline
    from service.projection import Projector

    settings = Settings()
    run(settings)
    projector = Projector(settings, batch_size=2000)
    try:
        total = Timeline(projector.source.engine).max_position()
        with Progress(TextColumn("rebuilding read models"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err) as progress:
            task = progress.add_task("rebuild", total=total)
            count = projector.rebuild(
                lambda position: progress.update(task, completed=position),
                discarded=lambda position: err.print(f"dropped the tables of an unfinished rebuild (it had reached "
                                                     f"position {position})"))
    except Exception as error:
        err.print(f"[red]the rebuild failed[/red] at position {projector.position}: {error}; the current read "
                  "models are unchanged and keep answering")
        raise typer.Exit(1) from error
    finally:
        projector.close()
    err.print(f"[green]rebuilt[/green] the read models from {count} events (up to position {projector.position}); "
              f"switched to them in {projector.switch_seconds:.2f} s")


@app.command()
def project(follow: bool = typer.Option(False, "--follow", help="Keep projecting new events until stopped"),
            poll: float = typer.Option(0.2, help="Seconds between looks at the store while following")) -> None:
    """Bring the projections up to date with the store (and, with --follow, keep them so).

    Run it as its own process beside services started with LEDGER_PROJECTOR=external."""
    import signal
    import threading

    from service.db import migrate as run
    from service.projection import Projector
    from service.projection_stops import ProjectionStopped

    settings = Settings()
    run(settings)
    projector = Projector(settings)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        if follow:
            err.print(f"following the store ({settings.store}); stop with Ctrl-C or SIGTERM")
            try:
                projector.follow(stopping, poll_seconds=poll)
            except KeyboardInterrupt:
                pass
            if projector.stop is not None:
                err.print(f"[red]stopped[/red]: {projector.stop.describe()}")
                raise typer.Exit(1)
        else:
            projector.load()
            count = projector.catch_up()
            err.print(f"[green]projected[/green] {count} new events (up to position {projector.position})")
    except ProjectionStopped as stopped:
        err.print(f"[red]stopped[/red]: {stopped}; the read models stay at position {projector.position}")
        raise typer.Exit(1) from stopped
    finally:
        projector.close()


@app.command("import")
def import_(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                        help="JSON Lines (one command a line), or the old model's CSV"),
            batch_size: int = typer.Option(1000, min=1, help="Commands stored per transaction"),
            skip: int = typer.Option(0, min=0, help="Skip the first N lines (resume after a failed import)"),
            actor: str = typer.Option("import", callback=recorded_name, help="Recorded as the actor of every event"),
            format_: str = typer.Option("auto", "--format", help="jsonl, old-model-csv (the old model's citizens), "
                                        "or auto: by the extension (.csv: old-model-csv)"),
            dry_run: bool = typer.Option(False, "--dry-run", help="Check every line against the ledger's rules and "
                                         "report what would be recorded and refused; record nothing")) -> None:
    """Bulk-load commands from JSON Lines in one pass, batch by batch, with a progress bar.

    A bad line stops the import, named by its line number; nothing of its batch is stored.

    A .csv file is the old model's citizens (service/old_model.py): checked whole, then imported as move-ins;
    nothing of it is stored when a row is refused."""
    from service.import_cli import FORMATS, import_format, run as run_checked

    if format_ not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
    kind = import_format(file, format_)
    if kind == "old-model-csv" or dry_run:
        raise typer.Exit(run_checked(file, kind, dry_run, batch_size, skip, actor))
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from service.db import migrate as run
    from service.importer import ImportFailed, import_lines
    from service.ledger import Actor, BudgetLedger

    settings = Settings()
    run(settings)
    ledger = BudgetLedger(settings)
    try:
        with file.open("rb") as handle, Progress(TextColumn("importing"), BarColumn(), DownloadColumn(),
                                                   TimeRemainingColumn(), console=err) as progress:
            task = progress.add_task("import", total=file.stat().st_size)

            def lines():  # type: ignore[no-untyped-def]
                for raw in handle:
                    progress.advance(task, len(raw))
                    yield raw.decode("utf-8")

            result = import_lines(ledger, lines(), Actor(actor, "admin"), batch_size=batch_size, skip=skip)
    except ImportFailed as failed:
        err.print(f"[red]import failed[/red]: {failed}")
        raise typer.Exit(1) from None
    except UnicodeDecodeError:
        err.print("[red]import failed[/red]: the file is not UTF-8 text")
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    err.print(f"[green]imported[/green] {result.commands} commands ({result.events} events) from "
              f"{result.lines} lines; store position {result.last_position}")


@app.command()
def verify() -> None:
    """Check that the store is complete and untampered: exit 0 when intact, 1 naming the first
    changed, removed, inserted or reordered event otherwise."""
    from service.db import migrate as run
    from service.ledger import BudgetLedger
    from service.projection import ProjectionStatus
    from service.verify import verify_store

    settings = Settings()
    run(settings)
    ledger = BudgetLedger(settings)
    status = ProjectionStatus(settings)
    try:
        with err.status("verifying the hash chain of every stored event"):
            verdict = verify_store(ledger, status.reached())
    finally:
        status.close()
        ledger.close()
    if verdict.finding is None:
        print(f"intact: {verdict.events} events; chain head {verdict.head}")
        return
    f = verdict.finding
    print(f"TAMPERED: {f.kind} at position {f.position}" + (f" (event {f.event_id})" if f.event_id else "")
          + f": {f.detail}")
    raise typer.Exit(1)


@token_app.command("create")
def token_create(role: str = typer.Option(..., help="admin, finance, caseworker, auditor or buyer"),
                 name: str = typer.Option(..., help="Who or what uses the token (recorded as actor)"),
                 municipality: str | None = typer.Option(None, help="buyer only: the code of the paying "
                                                         "municipality it reads for, e.g. 751")) -> None:
    """Print a new token on stdout (alone on the line); only its hash is stored."""
    from service.auth import ROLES, create_token, token_municipality
    from service.db import make_engine, migrate as run

    if role not in ROLES:
        err.print(f"[red]role must be one of {', '.join(ROLES)}[/red]")
        raise typer.Exit(2)
    try:
        token_municipality(role, municipality)
    except ValueError as refused:
        err.print(f"[red]--municipality: {escape(str(refused))}[/red]")
        raise typer.Exit(2) from None
    settings = Settings()
    run(settings)
    engine = make_engine(settings)
    try:
        print(create_token(engine, role, name, municipality))
    except ValueError as refused:
        err.print(f"[red]--name {escape(str(refused))}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@token_app.command("revoke")
def token_revoke(name: str = typer.Option(..., help="Revoke every live token of this name")) -> None:
    """Revoke the tokens of a name."""
    from service.auth import revoke_tokens
    from service.db import make_engine

    engine = make_engine(Settings())
    try:
        count = revoke_tokens(engine, name)
    finally:
        engine.dispose()
    err.print(f"revoked {count} token(s) of {name}")
    if count == 0:
        raise typer.Exit(1)


GC_THRESHOLDS = (100_000, 20, 20)
"""Python's cyclic garbage collector, run after 100 000 net allocations instead of 700 (and its
older generations every 20 runs of the younger). A projection or a read of every facility
allocates millions of short-lived objects while holding millions of long-lived ones, and the
default thresholds spent a third of a `large` rebuild and 40 % of a `national` central model
scanning them (docs/adr/0016). Reference counting frees everything that is not a cycle at once,
as before."""


def main() -> None:
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    app()
