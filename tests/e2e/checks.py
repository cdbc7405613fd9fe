"""What every reliability test checks of a store after the fact: the chain verifies, every stored
event has its index row and chain link, and the read models equal a rebuild from scratch."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from service.db import idempotency_keys, ledger_chain, ledger_entries, make_engine
from service.ledger import BudgetLedger
from service.projection import ProjectionStatus
from service.settings import Settings
from service.verify import verify_store
from tests.e2e.server import ledger
from tests.e2e.test_projector_process import dump


def stored_event_ids(settings: Settings) -> list[str]:
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(ledger_entries.c.event_id).order_by(ledger_entries.c.position))
                        .scalars())
    finally:
        engine.dispose()


def idempotency_responses(settings: Settings) -> dict[str, str]:
    """Each stored Idempotency-Key (its SHA-256: `idempotency_key_hash`) and the response
    recorded with its command."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(select(idempotency_keys.c.key, idempotency_keys.c.response)).all())
    finally:
        engine.dispose()


def assert_intact(settings: Settings) -> int:
    """The store verifies against its chain (in process, as `ledger verify` does), and stored
    events, index rows and chain links are one to one: no command is half-written. Returns the
    number of events."""
    app = BudgetLedger(settings)
    status = ProjectionStatus(settings)
    try:
        verdict = verify_store(app, status.reached())
        assert verdict.intact, verdict.finding
        with app.engine.connect() as connection:
            entries = connection.execute(select(func.count()).select_from(ledger_entries)).scalar()
            links = connection.execute(select(func.count()).select_from(ledger_chain)).scalar()
        stored = len(app.recorder.select_notifications(start=1, limit=10**9))
        assert entries == links == stored == verdict.events, (entries, links, stored, verdict.events)
        return verdict.events
    finally:
        status.close()
        app.close()


def assert_verify_passes(settings: Settings, cwd: Path) -> str:
    """`ledger verify`, the command itself: exit 0 and 'intact'."""
    result = ledger(settings, cwd, "verify", check=False)
    assert result.returncode == 0 and result.stdout.startswith("intact"), result.stdout + result.stderr
    return result.stdout.strip()


def assert_projections_equal_a_rebuild(settings: Settings, cwd: Path) -> int:
    """The read models as they are equal, row for row, those `ledger rebuild` writes from scratch.
    Returns the number of rows."""
    followed = dump(settings)
    result = ledger(settings, cwd, "rebuild", check=False)
    assert result.returncode == 0, result.stderr
    rebuilt = dump(settings)
    assert followed == rebuilt, (len(followed), len(rebuilt), sorted(set(followed) ^ set(rebuilt))[:5])
    return len(rebuilt)
