"""A citizen as of any point: the stays with their periods of level, service rate and payer,
and every event the ledger holds about the citizen, retracted ones marked with who retracted
them (the API's GET /v1/citizens/{ref} and the UI's citizen page read it here; the caller logs
the read). The stays come from the stay rows, the events from the store's stored events of the
citizen's stream, both as of a position the projections have reached (docs/adr/0035). An event's recording time is written as the ledger records it (ISO 8601 with its
offset), its details as plain values (service/audit.py `plain`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import Field

from domain import municipalities
from domain.errors import NotFound
from domain.ledger import public_type
from domain.values import check_reference
from projections.periods import stay_periods
from service.audit import plain
from service.ledger import BudgetLedger, Timeline, citizen_stream
from service.queries.values import Figure, Money
from service.read_models import CitizenAt, citizen_at
from service.schedule_rates import ScheduleRates

_HIDDEN = {"meta", "originator_id", "originator_version", "timestamp", "originator_topic"}


@dataclass(frozen=True)
class StayPeriod:
    """A run of days of one level (or special tariff), service rate and payer."""

    start: Annotated[date, Field(serialization_alias="from")]
    end: Annotated[date | None, Field(serialization_alias="to")]
    level: int | None
    hours_per_day: Figure
    special_tariff: str | None
    service_rate: Money | None
    """None: no tariff schedule for the year."""
    paying_municipality: str
    paying_municipality_name: str | None


@dataclass(frozen=True)
class CitizenStay:
    stay_id: str
    facility: str
    move_in: date
    move_out: date | None
    move_out_kind: str | None
    open: bool
    periods: tuple[StayPeriod, ...]


@dataclass(frozen=True)
class Retraction:
    """Who retracted an event, when and why."""

    by_event_id: str
    position: int
    recorded_at: str
    actor: str
    reason: str | None


@dataclass(frozen=True)
class CitizenEvent:
    event_id: str
    position: int
    type: str
    effective_date: date | None
    recorded_at: str
    actor: str
    reason: str | None
    case_ref: str | None
    details: dict[str, Any]
    retracted: Retraction | None


@dataclass(frozen=True)
class CitizenRecord:
    """A citizen's stays (void ones left out) and events as of a store position."""

    citizen_ref: str
    as_of_position: int | None
    """None: the latest."""
    stays: tuple[CitizenStay, ...]
    events: tuple[CitizenEvent, ...]
    warnings: tuple[str, ...]


def _events(ledger: BudgetLedger, citizen: CitizenAt) -> tuple[CitizenEvent, ...]:
    entries = Timeline(ledger.engine).entries_of(citizen_stream(citizen.citizen_ref))
    retractions: dict[str, Retraction] = {}
    rows = []
    for evt in citizen.events:
        position, recorded_at, _ = entries[evt.originator_version]
        meta = evt.meta  # type: ignore[attr-defined]
        if public_type(evt) == "EntryRetracted":
            retractions[evt.retracted_event_id] = Retraction(  # type: ignore[attr-defined]
                meta.event_id, position, recorded_at.isoformat(), meta.actor, meta.reason)
        rows.append((evt, meta, position, recorded_at))
    return tuple(
        CitizenEvent(meta.event_id, position, public_type(evt), meta.effective_date, recorded_at.isoformat(),
                     meta.actor, meta.reason, meta.case_ref,
                     {k: plain(v) for k, v in vars(evt).items() if k not in _HIDDEN}, retractions.get(meta.event_id))
        for evt, meta, position, recorded_at in rows)


def citizen_body(ref: str, ledger: BudgetLedger, position: int | None, read_at: int) -> CitizenRecord:
    """A citizen's stays and events as of `read_at`, the read position of `position` (None:
    the latest; service/api/deps.py `ReadAt`), from the stay rows and the citizen's stored
    events; NotFound for a citizen not recorded by then. The caller logs the read under its
    own resource."""
    ref = check_reference(ref, "citizen_ref")  # the UI calls this function with the reference as typed
    try:
        citizen = citizen_at(ledger, ref, read_at)
    except NotFound as missing:
        if missing.rule == "unknown_citizen":
            raise
        raise NotFound("unknown_citizen", f"no citizen {ref} in the ledger as of position {position}",
                       "citizen_ref") from None
    rates = ScheduleRates(ledger, read_at)
    warnings: set[str] = set()
    today = BudgetLedger.today()
    stays = []
    for stay in citizen.stays:
        conditions = list(stay.conditions)
        last = max([today, *[s for s, _ in conditions]])
        until = date(last.year, 12, 31)
        years = range(stay.move_in.year, (stay.move_out or until).year + 1)
        periods = stay_periods(conditions, stay.move_out, until, rates.rate_of, rates.revision_days(years))
        warnings |= {f"no tariff schedule for {year}: its days show no service rate"
                     for year in years if rates.schedule(year) is None}
        stays.append(CitizenStay(
            stay.stay_id, stay.facility, stay.move_in, stay.move_out, stay.move_out_kind, stay.is_open,
            tuple(StayPeriod(p.start, p.end, p.condition.level, p.condition.hours_per_day, p.condition.special_tariff,
                             p.service_rate, p.condition.paying_municipality,
                             municipalities.official_name(p.condition.paying_municipality))
                  for p in periods)))
    return CitizenRecord(citizen.citizen_ref, None if position is None else read_at, tuple(stays),
                         _events(ledger, citizen), tuple(sorted(warnings)))
