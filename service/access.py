"""Who may read what: the roles of the reads, and a buyer's own municipality (api.md, roles).

One rule for every entry point: the API's dependencies, the web UI's pages and the CLI admit
a role by `may` (admin does all) against the lists here, and a `buyer` reads for its own
municipality only (`check_own_municipality`). A refusal is `Forbidden`, which the API answers
with 403 problem+json naming its rule and the UI with a Danish page.
"""

from __future__ import annotations

from typing import Iterable

from service.auth import BUYER
from service.ledger import Actor

READERS = ("finance", "auditor", "caseworker")
"""Who reads budgets, facilities, schedules, citizens and the central model."""
FINANCE_READERS = ("finance", "auditor")
"""Who reads statements and the regulation (and sees them in the UI)."""
BUYING_READERS = (*FINANCE_READERS, BUYER)
"""Who reads a buying municipality's statements and citizens: finance, auditor (admin does
all), and the `buyer` of that municipality only (`check_own_municipality`)."""


class Forbidden(Exception):
    """The actor may not read this (a role's scope, not a wrong input): 403 in the API."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def may(actor: Actor, roles: Iterable[str]) -> bool:
    """Whether the actor's role is one of `roles`; admin does all (the API's and the UI's rule)."""
    return actor.role == "admin" or actor.role in roles


def check_own_municipality(actor: Actor, municipality: str) -> None:
    """A `buyer` reads for its own municipality only (Forbidden otherwise, the same for every
    other code, whatever the ledger holds for it)."""
    if actor.role == BUYER and actor.municipality != municipality:
        raise Forbidden("other_municipality",
                        f"a buyer token reads for its own municipality ({actor.municipality}) only")
