"""A citizen as of any point: the stays with their periods of level, service rate and payer,
and every event the ledger holds about the citizen, retracted ones marked with who retracted
them (the API's GET /v1/citizens/{ref} and the UI's citizen page read it here; the caller logs
the read)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain import municipalities
from domain.citizen import Citizen
from domain.errors import NotFound
from domain.ledger import public_type
from domain.values import check_reference
from projections.periods import stay_periods
from service.audit import plain
from service.ledger import BudgetLedger, Timeline
from service.queries.values import iso, kr
from service.readers import AsOfReader


def _ref(ref: str) -> str:
    return check_reference(ref, "citizen_ref")

_HIDDEN = {"meta", "originator_id", "originator_version", "timestamp", "originator_topic"}


def _events(ledger: BudgetLedger, citizen: Citizen) -> list[dict[str, Any]]:
    entries = Timeline(ledger.engine).entries_of(citizen.id)
    events = list(ledger.events.get(citizen.id, lte=citizen.version))
    retractions = {}
    rows = []
    for evt in events:
        position, recorded_at, _ = entries[evt.originator_version]
        meta = evt.meta  # type: ignore[attr-defined]
        row = {
            "event_id": meta.event_id, "position": position, "type": public_type(evt),
            "effective_date": iso(meta.effective_date), "recorded_at": recorded_at.isoformat(),
            "actor": meta.actor, "reason": meta.reason, "case_ref": meta.case_ref,
            "details": {k: plain(v) for k, v in vars(evt).items() if k not in _HIDDEN},
            "retracted": None,
        }
        if row["type"] == "EntryRetracted":
            retractions[evt.retracted_event_id] = {  # type: ignore[attr-defined]
                "by_event_id": meta.event_id, "position": position, "recorded_at": row["recorded_at"],
                "actor": meta.actor, "reason": meta.reason,
            }
        rows.append(row)
    for row in rows:
        row["retracted"] = retractions.get(row["event_id"])
    return rows


def citizen_body(ref: str, ledger: BudgetLedger, position: int) -> dict[str, Any]:
    """A citizen's stays and events as of `position`; the caller logs the read under its own
    resource (the API's path, or the UI page's)."""
    ref = _ref(ref)  # the UI calls this function with the reference as typed
    ledger.citizen(ref)  # 404 for a citizen never recorded
    reader = AsOfReader(ledger, position)
    try:
        citizen = reader.citizen(ref)
    except NotFound:
        raise NotFound("unknown_citizen", f"no citizen {ref} in the ledger as of position {position}",
                       "citizen_ref") from None
    warnings: set[str] = set()
    today = BudgetLedger.today()
    stays = []
    for stay in citizen.stays:
        if stay.is_void:
            continue
        conditions = stay.conditions()
        last = max([today, *[s for s, _ in conditions]])
        until = date(last.year, 12, 31)
        years = range(stay.move_in.year, (stay.move_out or until).year + 1)
        periods = stay_periods(conditions, stay.move_out, until, reader.rate_of, reader.revision_days(years))
        warnings |= {f"no tariff schedule for {year}: its days show no service rate"
                     for year in years if reader.schedule(year) is None}
        stays.append({
            "stay_id": stay.stay_id, "facility": stay.facility, "move_in": iso(stay.move_in),
            "move_out": iso(stay.move_out), "move_out_kind": stay.move_out_kind, "open": stay.is_open,
            "periods": [
                {"from": iso(p.start), "to": iso(p.end), "level": p.condition.level,
                 "hours_per_day": str(p.condition.hours_per_day), "special_tariff": p.condition.special_tariff,
                 "service_rate": kr(p.service_rate), "paying_municipality": p.condition.paying_municipality,
                 "paying_municipality_name": municipalities.official_name(p.condition.paying_municipality)}
                for p in periods
            ],
        })
    return {
        "citizen_ref": citizen.citizen_ref,
        "as_of_position": position,
        "stays": stays,
        "events": _events(ledger, citizen),
        "warnings": sorted(warnings),
    }
