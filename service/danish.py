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
THEMES = {"egenomsorg": "Egenomsorg", "praktiske_opgaver": "Praktiske opgaver", "samfundsliv": "Samfundsliv",
          "kommunikation": "Kommunikation", "mobilitet": "Mobilitet", "relationer": "Relationer",
          "mentale_funktioner": "Mentale funktioner", "sundhedsforhold": "Sundhedsforhold",
          "fysiske_funktioner": "Fysiske funktioner", "sociale_forhold": "Sociale forhold"}
"""The VUM 2.0 themes of a døgnskema (domain/assessment.py THEMES) as a Danish reader names them."""
SLOTS = {"morning": "Morgen (06-10)", "daytime": "Dag (10-16)", "evening": "Aften (16-22)", "night": "Nat (22-06)"}
KINDS = {"direct": "direkte", "indirect": "indirekte"}
