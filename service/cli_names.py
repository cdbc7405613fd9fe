"""Names given on the command line that the ledger stores: `--actor` is recorded with every
event an import records and with every citizen read an export logs, so it passes the same CPR
guard as every other stored text (domain/cpr.py)."""

from __future__ import annotations

import typer

from domain.cpr import looks_like_cpr


def recorded_name(value: str) -> str:
    """A typer callback: the name as given, or a usage error (exit 2) naming the option."""
    if not value.strip():
        raise typer.BadParameter("must not be empty")
    if looks_like_cpr(value):
        raise typer.BadParameter("must not hold a CPR number (it is stored with what it records)")
    return value
