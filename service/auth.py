"""Bearer tokens and roles.

A token is `lt_<token_id>_<secret>`: the id finds the row, the secret is checked against a
salted SHA-256 hash in constant time. Only the hash is stored; the token is shown once.

Roles (api.md): caseworker records citizen events and reads citizens and budgets; finance
records facilities, frame budgets, schedules, accounts and baselines and reads everything;
auditor reads everything; admin does all and manages tokens. A `buyer` token is bound to one
paying municipality of the register (not Norddjurs itself) and reads only that municipality's
statements and the support of the stays it pays for (service/buyers.py, docs/adr/0026).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from domain import municipalities
from domain.cpr import looks_like_cpr
from domain.errors import InvalidValue
from domain.values import NORDDJURS
from service.db import api_tokens
from service.ledger import Actor
from service.store import TokenState

ROLES = ("admin", "finance", "caseworker", "auditor", "buyer")
BUYER = "buyer"
"""The role bound to one paying municipality."""
_TOKEN = re.compile(r"^lt_([0-9a-f]{32})_([A-Za-z0-9_-]{20,100})$")


def _hash(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def token_municipality(role: str, municipality: str | None) -> str | None:
    """The municipality a token of `role` is bound to: a `buyer` needs one of the register's
    codes other than Norddjurs' (707); every other role takes none (ValueError otherwise)."""
    if role != BUYER:
        if municipality is not None:
            raise ValueError(f"--municipality binds a buyer token only; a {role} token reads for Norddjurs")
        return None
    if municipality is None:
        raise ValueError("a buyer token needs --municipality: the code of the paying municipality it reads for")
    try:
        municipalities.check(municipality, "municipality")
    except InvalidValue as refused:
        raise ValueError(f"municipality {municipality!r}: {refused.message}") from None
    if municipality == NORDDJURS:
        raise ValueError("707 is Norddjurs itself: a buyer token is for a municipality that buys places")
    return municipality


def create_token(engine: Engine, role: str, name: str, municipality: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    municipality = token_municipality(role, municipality)
    if not name.strip() or len(name) > 100:
        raise ValueError("name must be 1-100 characters")
    if looks_like_cpr(name):
        raise ValueError("name must not hold a CPR number (it is stored, and logged with every read)")
    token_id = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    with engine.begin() as connection:
        connection.execute(
            insert(api_tokens).values(
                token_id=token_id, name=name.strip(), role=role, salt=salt, token_hash=_hash(salt, secret),
                created_at=datetime.now(timezone.utc), municipality=municipality,
            )
        )
    return f"lt_{token_id}_{secret}"


def token_id(token: str) -> str | None:
    """The id part of a well-formed token (None: a malformed one); it says nothing of whether
    the token is known."""
    match = _TOKEN.match(token)
    return match.group(1) if match else None


def token_id_known(engine: Engine, token_id: str) -> bool:
    """Whether a token with this id was ever issued (live or revoked)."""
    with engine.connect() as connection:
        return connection.execute(select(api_tokens.c.token_id).where(api_tokens.c.token_id == token_id)).first() \
            is not None


def authenticate(engine: Engine, token: str) -> Actor | None:
    """The actor behind a token, or None for an unknown, malformed or revoked token."""
    match = _TOKEN.match(token)
    if not match:
        return None
    token_id, secret = match.groups()
    with engine.connect() as connection:
        row = connection.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, _hash(row.salt, secret)):
        return None
    return Actor(name=row.name, role=row.role, municipality=row.municipality)


class TokenCheck:
    """Authentication for a service process: one statement per request (docs/adr/0028).

    Whether a token is revoked is the one thing about it that changes, and it must be seen by
    every service process on the very next request, whichever process or `ledger token revoke`
    revoked it. So nothing about a live token is kept between requests: each request reads the
    token's row by its primary key on the store's own connection (`token_state`: one
    statement, no ping, no transaction around it). A revoked token is remembered as revoked
    (revocation is final) and asks the store nothing more."""

    def __init__(self, lookup: Callable[[str], TokenState | None], size: int = 10_000) -> None:
        self.lookup, self.size = lookup, size
        self.revoked: set[str] = set()

    def authenticate(self, token: str) -> Actor | None:
        """The actor behind a token, or None for an unknown, malformed or revoked token."""
        match = _TOKEN.match(token)
        if not match:
            return None
        token_id, secret = match.groups()
        if token_id in self.revoked:
            return None
        state = self.lookup(token_id)
        if state is None:
            return None
        if state.revoked:
            if len(self.revoked) < self.size:
                self.revoked.add(token_id)
            return None
        if not hmac.compare_digest(state.token_hash, _hash(state.salt, secret)):
            return None
        return Actor(name=state.name, role=state.role, municipality=state.municipality)


def revoke_tokens(engine: Engine, name: str) -> int:
    """Revoke every live token of `name`; returns how many were revoked."""
    with engine.begin() as connection:
        result = connection.execute(
            update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(timezone.utc))
        )
    return result.rowcount
