"""Idempotency keys are stored only as their SHA-256 (docs/adr/0020).

A client may put anything in the `Idempotency-Key` header, a CPR number included; the ledger
needs only to recognise the key again, so `idempotency_keys.key` now holds the SHA-256 of the
key in hex (service/store.py `idempotency_key_hash`). This migration replaces every key
already stored by its hash, in Python, row by row, on SQLite and PostgreSQL alike: a retry of
a command recorded before the upgrade, with the same key, still finds its recorded answer.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_KEYS = sa.table("idempotency_keys", sa.column("principal", sa.String), sa.column("key", sa.String))


def _hash(key: str) -> str:
    """The same function as service/store.py `idempotency_key_hash` (copied: a migration
    keeps the rule of its own day)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_KEYS.c.principal, _KEYS.c.key)).all()
    for principal, key in rows:
        bind.execute(
            sa.update(_KEYS)
            .where(_KEYS.c.principal == principal, _KEYS.c.key == key)
            .values(key=_hash(key))
        )


def downgrade() -> None:
    raise NotImplementedError("a hash cannot be turned back into the key it was made from")
