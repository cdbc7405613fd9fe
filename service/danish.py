"""Danish names for the ledger's codes that the web UI and the spreadsheets both show, kept
once so that a page and a file say the same thing."""

from __future__ import annotations

MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
          "november", "december")
FACILITY_KINDS = {"botilbud": "Botilbud", "bofaellesskab": "Bofællesskab"}
"""A facility's kind (domain/facility.py KINDS) as a Danish reader names it."""


def facility_kind(kind: str | None) -> str | None:
    """'bofaellesskab' -> 'Bofællesskab' (an unknown kind as it is)."""
    return None if kind is None else FACILITY_KINDS.get(kind, kind)
