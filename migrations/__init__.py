"""Alembic migrations for every table the project owns (see docs/adr/0003)."""
