"""A projection that cannot apply an event says so (docs/adr/0034), on both stores: it stops at
that event's position instead of retrying, `/health/ready` answers 503 naming the position and
the error, `/metrics` shows it, and the reads answer from the last consistent position with
that position in the body. A new start of the projection (`ledger project`) tries again.

The failing event is real: the projection rule is made to give a month a figure beyond the
read model's 64-bit column, and the store refuses the row (no database is mocked)."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal

import pytest

from projections.projector import BudgetProjection
from service.ledger import Timeline
from service.projection import Projector
from tests.integration.test_projector_recovery import record

TOO_LARGE = Decimal(10) ** 18
"""kr.; in øre beyond a 64-bit integer column."""


@pytest.fixture
def overflowing(monkeypatch):  # type: ignore[no-untyped-def]
    """While on, every month of a facility-year a citizen event changes gets an activity no 64-bit column holds."""
    state = {"on": False}
    apply = BudgetProjection.apply

    def apply_overflowing(self, event):  # type: ignore[no-untyped-def]
        changes = apply(self, event)
        if not state["on"]:
            return changes
        return [dataclasses.replace(c, value=tuple(None if m is None else dataclasses.replace(m, activity=TOO_LARGE)
                                                   for m in c.value))
                if c.table == "year" and c.value is not None else c for c in changes]

    monkeypatch.setattr(BudgetProjection, "apply", apply_overflowing)
    return state


def until(condition, seconds: float = 15):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)
    return value


def test_an_event_the_projection_cannot_apply_stops_it_and_says_so(api, ledger, overflowing):
    record(ledger, "A")
    consistent = Timeline(ledger.engine).max_position()
    before = until(lambda: (r := api.get("/v1/budgets/F1/2026")).status_code == 200
                   and r.json()["as_of_position"] == consistent and r.json())
    overflowing["on"] = True
    record(ledger, "BAD")
    bad = Timeline(ledger.engine).max_position()
    api.client.app.state.embedded.nudge()

    ready = until(lambda: (r := api.get("/health/ready", role=None)).status_code == 503
                  and "stopped" in r.json()["projections"] and r.json())
    stopped = ready["projections"]["stopped"]
    assert stopped["position"] == bad and "Citizen" in stopped["event_type"] and stopped["error"]
    assert any(f"position {bad}" in reason and stopped["error"] in reason for reason in ready["reasons"])
    assert ready["projections"]["position"] == consistent
    metrics = api.get("/metrics").text
    assert f'ledger_projection_stopped{{event_type="{stopped["event_type"]}",position="{bad}"}} 1.0' in metrics
    assert f"ledger_projection_stopped_position {float(bad)}" in metrics
    until(lambda: not api.client.app.state.embedded.alive)  # stopped, not retrying

    overflowing["on"] = False
    record(ledger, "C")  # recorded after the stop: the reads stay at the last consistent position
    started = time.monotonic()
    for path in ("/v1/budgets/F1/2026", f"/v1/budgets/F1/2026?as_of_position={bad}"):
        answer = api.get(path)
        assert answer.status_code == 200, answer.text
        assert answer.json()["as_of_position"] == consistent
        assert answer.json()["months"] == before["months"]  # nothing of the event that failed
    assert time.monotonic() - started < ledger.settings.read_wait_seconds  # answered, not waited for

    projector = Projector(ledger.settings)  # `ledger project`: a new start tries the event again
    try:
        projector.load()
        assert projector.stop is not None and projector.stop.position == bad
        projector.catch_up()
        assert projector.stop is None
    finally:
        projector.close()
    latest = Timeline(ledger.engine).max_position()
    assert api.get("/v1/budgets/F1/2026").json()["as_of_position"] == latest
    ready = api.get("/health/ready", role=None).json()
    assert "stopped" not in ready["projections"] and ready["projections"]["position"] == latest
    assert "ledger_projection_stopped_position 0.0" in api.get("/metrics").text
