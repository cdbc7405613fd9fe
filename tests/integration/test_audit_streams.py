"""The audit trail reads a page's streams in two steps (the stored events through the library,
then the ledger entries); a command committed around them must not break the page."""

from __future__ import annotations

import pytest

from service.audit import AuditQuery, AuditTrail
from tests.integration.test_projector_recovery import CASEWORKER, record
from service.commands.declarations import Retract


@pytest.mark.parametrize("when", ["before the stored events are read", "after them"])
def test_a_retraction_recorded_while_a_page_is_read_does_not_break_it(ledger, monkeypatch, when):
    record(ledger)
    [move_in] = [e for e in AuditTrail(ledger).entries(AuditQuery(citizen="A"))[0] if e["type"] == "CitizenMovedIn"]
    original, retracted = ledger.recorder.select_events, []

    def retract() -> None:
        if not retracted:
            retracted.append(True)
            ledger.handle(Retract(event_id=move_in["event_id"], reason="registered on the wrong citizen"), CASEWORKER)

    def select_events(*args, **kwargs):  # type: ignore[no-untyped-def]
        if when.startswith("before"):
            retract()
        found = original(*args, **kwargs)
        retract()
        return found

    monkeypatch.setattr(ledger.recorder, "select_events", select_events)
    page, _ = AuditTrail(ledger).entries(AuditQuery(citizen="A", until_position=move_in["position"]))
    assert retracted and [e["event_id"] for e in page] == [move_in["event_id"]]
    assert page[0]["retracted"] is None  # not as of the page's position
    monkeypatch.setattr(ledger.recorder, "select_events", original)
    again, _ = AuditTrail(ledger).entries(AuditQuery(citizen="A"))
    assert again[0]["retracted"]["by_event_id"] == again[-1]["event_id"]
