"""`python -m bench --scale norddjurs|large|national --store sqlite|postgresql`: one benchmark
run, printed as a table and saved as JSON under bench/results/;
`python -m bench costs --scale S --store K`: where a command's and a rebuild's time goes, step
by step in one process (bench/costs.py);
`python -m bench compare SMALLER.json LARGER.json`: how each cost grows with the events;
`python -m bench markdown RESULTS.json`: a saved run's table as Markdown (docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from bench.scales import SCALES
from bench.harness import GROUPS, HERE, Options, run
from bench.report import Results, compare as compare_runs, compare_markdown, markdown as markdown_table
from bench.report import print_results, side_by_side

app = typer.Typer(help=__doc__, add_completion=False, invoke_without_command=True, no_args_is_help=False)
out = Console()
if not out.is_terminal:
    out = Console(width=200)


def check_scale_and_store(scale: str, store: str) -> None:
    if scale not in SCALES:
        raise typer.BadParameter(f"scale must be one of {', '.join(SCALES)}", param_hint="--scale")
    if store not in ("sqlite", "postgresql"):
        raise typer.BadParameter("store must be sqlite or postgresql", param_hint="--store")


@app.callback()
def main(
    ctx: typer.Context,
    scale: str = typer.Option("norddjurs", help=f"One of {', '.join(SCALES)} (tiny: the smoke test's)"),
    store: str = typer.Option("sqlite", help="sqlite or postgresql"),
    seed: int = typer.Option(1, help="The generator's seed"),
    keep: bool = typer.Option(False, "--keep", help="Keep the store (temp directory / PostgreSQL schemas)"),
    only: Optional[str] = typer.Option(None, help=f"Comma-separated groups of figures: {', '.join(GROUPS)}"),
    http_seconds: float = typer.Option(5.0, min=0.1, help="Seconds of HTTP commands per client count (and per baseline loop)"),
    samples: float = typer.Option(1.0, help="Scales the number of requests of each read benchmark"),
    projector: str = typer.Option("embedded", help="embedded (the service projects) or external (a `ledger "
                                  "project --follow` process does; its memory is reported apart)"),
    results: Path = typer.Option(HERE / "results", help="Where the JSON results go"),
    no_save: bool = typer.Option(False, "--no-save", help="Print only; write no JSON"),
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    check_scale_and_store(scale, store)
    groups = tuple(g.strip() for g in only.split(",")) if only else GROUPS
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise typer.BadParameter(f"unknown groups {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}",
                                 param_hint="--only")
    if projector not in ("embedded", "external"):
        raise typer.BadParameter("projector must be embedded or external", param_hint="--projector")
    options = Options(SCALES[scale], store, seed, keep, groups, http_seconds, samples, projector=projector,
                      results=None if no_save else results)
    print_results(run(options), out)


@app.command()
def costs(scale: str = typer.Option("norddjurs", help=f"One of {', '.join(SCALES)}"),
          store: str = typer.Option("sqlite", help="sqlite or postgresql"),
          seed: int = typer.Option(1, help="The generator's seed"),
          http_seconds: float = typer.Option(5.0, min=0.1, help="Seconds of commands per thread count (and per baseline)"),
          results: Path = typer.Option(HERE / "results", help="Where the JSON results go"),
          no_save: bool = typer.Option(False, "--no-save", help="Print only; write no JSON"),
          ) -> None:
    """Where the time of a command and of a rebuild goes, step by step, in one process."""
    from bench import costs as steps

    check_scale_and_store(scale, store)
    run_ = steps.run(SCALES[scale], store, seed, http_seconds, Console(stderr=True).log)
    if not no_save:
        Console(stderr=True).log(f"results: {run_.save(results)}")
    print_results(run_, out)


@app.command()
def compare(smaller: Path = typer.Argument(..., exists=True, help="Results of the smaller scale (e.g. large)"),
            larger: Path = typer.Argument(..., exists=True, help="Results of the larger scale (e.g. national)"),
            as_markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table"),
            ) -> None:
    """How each cost grows from one run to a larger one (cost ∝ events^k), against each figure's bound
    (k ≤ 1: linear or better; k ≤ 0 for a figure per event; a memory at most 1.5× the smaller scale's)."""
    runs = Results.load(smaller), Results.load(larger)
    if as_markdown:
        print(compare_markdown(*runs))
    else:
        out.print(compare_runs(*runs))


def load(run_: Results, when: str) -> str:
    figures = run_.details.get(f"load_average_at_{when}") or []
    return "/".join(f"{x:.1f}" for x in figures) or "?"


@app.command()
def markdown(results: Path = typer.Argument(..., exists=True, help="A saved run (bench/results/*.json)")) -> None:
    """Print a saved run's table as Markdown, with its machine and data, for docs/benchmarks.md."""
    run_ = Results.load(results)
    data, machine = run_.data, run_.machine
    print(f"**{run_.scale} on {run_.store}** ({results.name}): {data.get('store_events')} events in the store "
          f"({data.get('commands')} import commands, {data.get('corrections')} corrections, the rest from the HTTP "
          f"benchmark); projections {data.get('projector', 'embedded')}; commit {machine.get('commit')}; load average (1, 5, 15 min) {load(run_, 'start')} at the "
          f"start, {load(run_, 'end')} at the end.\n")
    print(markdown_table(run_))


@app.command("side-by-side")
def side_by_side_command(runs: list[Path] = typer.Argument(..., exists=True, help="Saved runs (bench/results/*.json)")
                         ) -> None:
    """Print several saved runs as one Markdown table, a column per run, for docs/benchmarks.md."""
    print(side_by_side([Results.load(path) for path in runs]))


if __name__ == "__main__":
    app()
