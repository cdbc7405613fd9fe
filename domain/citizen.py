"""Citizens (borgere) and their stays: move-in, reassessment, special tariff, paying
municipality and move-out.

One stream per citizen, so that every rule that spans a citizen's stays is checked in one
place (docs/adr/0002). A citizen is known only by a pseudonymous `citizen_ref`.

Rules (domain §3, §4.1, §4.4):
- a move-in (indflytning) needs no open stay, and its date must be after the move-out date of
  the citizen's previous stay: stays never overlap;
- every other event of a stay takes effect within the stay (move-in to move-out, inclusive);
  a retroactive event is allowed as long as it does;
- a move-out (fraflytning) ends the open stay, on or after the effective date of every event
  of the stay;
- the level (takstniveau) is classified once, when the assessment is recorded, in the
  schedule of the effective date's year, and stored in the event;
- hours at or above level 8's `max_hours` need a special tariff (særtakst): in force in the
  stay on that day, or granted by the same request;
- a special tariff replaces the level's service rate until a later reassessment lands on a
  level again; when several events of a stay take effect on the same day, the one recorded
  last wins;
- a move-in can be retracted only after every later event of its stay is retracted; a
  move-out only while no later stay exists; no retraction may leave a day without a rate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from eventsourcing.domain import event

from domain.assessment import hours_per_day, minutes_per_day, normalise_assessment
from domain.errors import InvalidValue, RuleViolation
from domain.ledger import Entry, LedgerAggregate
from domain.tariff_schedule import SPECIAL_TARIFF_CODES, TariffSchedule
from domain.values import Meta, canonical_reference, check_daily_rate, check_municipality, money

MOVE_OUT_KINDS = ("moved", "deceased", "transferred")
MOVED_IN, REASSESSED, SPECIAL, PAYER, MOVED_OUT = (
    "CitizenMovedIn", "CitizenReassessed", "SpecialTariffGranted", "PayingMunicipalityChanged", "CitizenMovedOut",
)
_NAMESPACE = uuid.UUID("8a1d6c3e-7b2f-4e55-9d0a-2c4b6e8f1a23")


def citizen_id(citizen_ref: str) -> uuid.UUID:
    """The stream of a citizen: named by the canonical (upper-cased) reference."""
    return uuid.uuid5(_NAMESPACE, f"citizen:{citizen_ref}")


@dataclass(frozen=True)
class Classification:
    """What the ledger made of an assessment: hours per day and level (None: above level 8)."""

    assessment: dict[str, Any]
    hours_per_day: Decimal
    level: int | None

    @classmethod
    def of(cls, assessment: Any, schedule: TariffSchedule) -> "Classification":
        normalised = normalise_assessment(assessment)
        return cls(normalised, hours_per_day(normalised), schedule.classify(minutes_per_day(normalised)))


@dataclass(frozen=True)
class SpecialTariff:
    code: str
    daily_rate: Decimal

    @classmethod
    def of(cls, code: Any, daily_rate: Any, schedule: TariffSchedule, field: str = "special_tariff") -> "SpecialTariff":
        prefix = f"{field}." if field else ""
        if code not in SPECIAL_TARIFF_CODES:
            raise InvalidValue("unknown_special_tariff", "code must be S1 or S2", f"{prefix}code")
        if code not in schedule.special_tariff_codes:
            raise RuleViolation(
                "special_tariff_not_in_schedule",
                f"the {schedule.year} schedule has no special tariff {code}", f"{prefix}code",
            )
        rate = check_daily_rate(money(daily_rate, f"{prefix}daily_rate"), f"{prefix}daily_rate")
        return cls(code, rate)


@dataclass(frozen=True)
class Condition:
    """What funds a stay from a day on: level or special tariff, and who pays."""

    level: int | None
    hours_per_day: Decimal
    special_tariff: str | None
    special_rate: Decimal | None
    paying_municipality: str

    @property
    def has_rate(self) -> bool:
        return self.level is not None or self.special_tariff is not None


@dataclass
class Stay:
    """One placement at one facility, with every fact recorded about it (retracted or not)."""

    stay_id: str
    facility: str
    facts: list[dict[str, Any]]

    def active_facts(self, without: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.facts if f["active"] and f["event_id"] != without]

    @property
    def is_void(self) -> bool:
        return not self.facts[0]["active"]

    @property
    def move_in(self) -> date:
        return self.facts[0]["effective_date"]

    @property
    def move_out(self) -> date | None:
        outs = [f for f in self.active_facts() if f["type"] == MOVED_OUT]
        return outs[-1]["effective_date"] if outs else None

    @property
    def move_out_kind(self) -> str | None:
        outs = [f for f in self.active_facts() if f["type"] == MOVED_OUT]
        return outs[-1]["kind"] if outs else None

    @property
    def is_open(self) -> bool:
        return not self.is_void and self.move_out is None

    def holds(self, day: date) -> bool:
        return not self.is_void and self.move_in <= day and (self.move_out is None or day <= self.move_out)

    def conditions(self, extra: Iterable[dict[str, Any]] = (), without: str | None = None) -> list[tuple[date, Condition]]:
        """The stay's conditions by effective date: [(from_date, Condition)], each in force
        until the next one. Events of one day apply in recording order (the last wins)."""
        facts = sorted(
            [*self.active_facts(without), *extra], key=lambda f: (f["effective_date"], f["sequence"])
        )
        changes: list[tuple[date, Condition]] = []
        state: dict[str, Any] = {}
        for fact in facts:
            if fact["type"] in (MOVED_IN, REASSESSED):
                state["level"], state["hours_per_day"] = fact["level"], fact["hours_per_day"]
                if fact["level"] is not None:
                    state["special_tariff"] = state["special_rate"] = None
            if fact["type"] == MOVED_IN:
                state["paying_municipality"] = fact["paying_municipality"]
            elif fact["type"] == SPECIAL:
                state["special_tariff"], state["special_rate"] = fact["code"], fact["daily_rate"]
            elif fact["type"] == PAYER:
                state["paying_municipality"] = fact["paying_municipality"]
            elif fact["type"] == MOVED_OUT:
                continue
            condition = Condition(
                level=state.get("level"), hours_per_day=state.get("hours_per_day", Decimal(0)),
                special_tariff=state.get("special_tariff"), special_rate=state.get("special_rate"),
                paying_municipality=state.get("paying_municipality", ""),
            )
            if changes and changes[-1][0] == fact["effective_date"]:
                changes[-1] = (fact["effective_date"], condition)
            else:
                changes.append((fact["effective_date"], condition))
        return changes

    def condition_on(self, day: date) -> Condition | None:
        current = None
        for start, condition in self.conditions():
            if start <= day:
                current = condition
        return current

    def check_every_day_has_a_rate(self, extra: Iterable[dict[str, Any]] = (), without: str | None = None) -> None:
        for start, condition in self.conditions(extra, without):
            if not condition.has_rate:
                raise RuleViolation(
                    "level_8_needs_special_tariff",
                    f"from {start} the assessed {condition.hours_per_day} hours per day are at or "
                    "above level 8: a special tariff (S1/S2) must be in force or granted with it",
                    "special_tariff",
                )


class Citizen(LedgerAggregate):
    """A citizen's stays at the facilities, as one stream of events."""

    @staticmethod
    def create_id(citizen_ref: str, **_: Any) -> uuid.UUID:
        return citizen_id(citizen_ref)

    # Move-in -----------------------------------------------------------------------------

    @classmethod
    def first_move_in(
        cls, citizen_ref: Any, facility: str, paying_municipality: Any, classification: Classification, meta: Meta,
        special_tariff: SpecialTariff | None = None, special_meta: Meta | None = None,
    ) -> "Citizen":
        citizen_ref = canonical_reference(citizen_ref, "citizen_ref")
        facility = canonical_reference(facility, "facility")
        check_municipality(paying_municipality)
        _check_rate_in_request(classification, special_tariff, special_meta)
        citizen = cls(citizen_ref=citizen_ref, meta=meta, **_move_in_fields(facility, paying_municipality, classification))
        citizen._grant_with(special_tariff, special_meta, meta.event_id)
        return citizen

    @event("FirstMovedIn")
    def __init__(
        self, citizen_ref: str, meta: Meta, facility: str, paying_municipality: str,
        assessment: dict, hours_per_day: Decimal, level: int | None,
    ) -> None:
        self.citizen_ref = citizen_ref
        self.stays: list[Stay] = []
        self._start_stay(meta, facility, paying_municipality, assessment, hours_per_day, level)

    def move_in(
        self, facility: str, paying_municipality: Any, classification: Classification, meta: Meta,
        special_tariff: SpecialTariff | None = None, special_meta: Meta | None = None,
    ) -> None:
        facility = canonical_reference(facility, "facility")
        check_municipality(paying_municipality)
        if self.open_stay is not None:
            raise RuleViolation(
                "open_stay_exists",
                f"{self.citizen_ref} already has an open stay at {self.open_stay.facility} since "
                f"{self.open_stay.move_in}; record the move-out first",
                "effective_date",
            )
        previous = self.active_stays[-1] if self.active_stays else None
        if previous is not None and meta.effective_date <= previous.move_out:  # type: ignore[operator]
            raise RuleViolation(
                "stays_overlap",
                f"the move-in must take effect after the previous stay's move-out on {previous.move_out}",
                "effective_date",
            )
        _check_rate_in_request(classification, special_tariff, special_meta)
        self._moved_in(meta=meta, **_move_in_fields(facility, paying_municipality, classification))
        self._grant_with(special_tariff, special_meta, meta.event_id)

    @event("MovedIn")
    def _moved_in(
        self, meta: Meta, facility: str, paying_municipality: str, assessment: dict,
        hours_per_day: Decimal, level: int | None,
    ) -> None:
        self._start_stay(meta, facility, paying_municipality, assessment, hours_per_day, level)

    def _start_stay(self, meta: Meta, facility, paying_municipality, assessment, hours_per_day, level) -> None:
        fact = _fact(self, meta, MOVED_IN, facility=facility, paying_municipality=paying_municipality,
                     hours_per_day=hours_per_day, level=level)
        self.stays.append(Stay(stay_id=meta.event_id, facility=facility, facts=[fact]))

    def _grant_with(self, special_tariff: SpecialTariff | None, special_meta: Meta | None, stay_id: str) -> None:
        if special_tariff is not None and special_meta is not None:
            self._special_tariff_granted(
                meta=special_meta, stay_id=stay_id, code=special_tariff.code, daily_rate=special_tariff.daily_rate
            )

    # Events within a stay ----------------------------------------------------------------

    def reassess(
        self, classification: Classification, meta: Meta,
        special_tariff: SpecialTariff | None = None, special_meta: Meta | None = None,
    ) -> None:
        stay = self.stay_on(meta.effective_date)
        new = [self._draft(meta, REASSESSED, hours_per_day=classification.hours_per_day, level=classification.level)]
        if special_tariff is not None and special_meta is not None:
            special_meta.require_reason()
            new.append(self._draft(special_meta, SPECIAL, code=special_tariff.code,
                                   daily_rate=special_tariff.daily_rate, offset=1))
        stay.check_every_day_has_a_rate(extra=new)
        self._reassessed(meta=meta, stay_id=stay.stay_id, assessment=classification.assessment,
                         hours_per_day=classification.hours_per_day, level=classification.level)
        self._grant_with(special_tariff, special_meta, stay.stay_id)

    @event("CitizenReassessed")
    def _reassessed(self, meta: Meta, stay_id: str, assessment: dict, hours_per_day: Decimal, level: int | None) -> None:
        self._stay(stay_id).facts.append(_fact(self, meta, REASSESSED, hours_per_day=hours_per_day, level=level))

    def grant_special_tariff(self, special_tariff: SpecialTariff, meta: Meta) -> None:
        meta.require_reason()
        stay = self.stay_on(meta.effective_date)
        self._grant_with(special_tariff, meta, stay.stay_id)

    @event(SPECIAL)
    def _special_tariff_granted(self, meta: Meta, stay_id: str, code: str, daily_rate: Decimal) -> None:
        self._stay(stay_id).facts.append(_fact(self, meta, SPECIAL, code=code, daily_rate=daily_rate))

    def change_paying_municipality(self, paying_municipality: Any, meta: Meta) -> None:
        check_municipality(paying_municipality)
        stay = self.stay_on(meta.effective_date)
        self._paying_municipality_changed(meta=meta, stay_id=stay.stay_id, paying_municipality=paying_municipality)

    @event(PAYER)
    def _paying_municipality_changed(self, meta: Meta, stay_id: str, paying_municipality: str) -> None:
        self._stay(stay_id).facts.append(_fact(self, meta, PAYER, paying_municipality=paying_municipality))

    def move_out(self, kind: Any, meta: Meta) -> None:
        if kind not in MOVE_OUT_KINDS:
            raise InvalidValue("unknown_move_out_kind", "kind must be moved, deceased or transferred", "kind")
        stay = self.open_stay
        if stay is None:
            raise RuleViolation("no_open_stay", f"{self.citizen_ref} has no open stay to end", "effective_date")
        latest = max(f["effective_date"] for f in stay.active_facts())
        if meta.effective_date < latest:
            raise RuleViolation(
                "move_out_before_stay_events",
                f"the move-out must be on or after every event of the stay (the latest takes effect {latest})",
                "effective_date",
            )
        self._moved_out(meta=meta, stay_id=stay.stay_id, kind=kind)

    @event(MOVED_OUT)
    def _moved_out(self, meta: Meta, stay_id: str, kind: str) -> None:
        self._stay(stay_id).facts.append(_fact(self, meta, MOVED_OUT, kind=kind))

    # State -------------------------------------------------------------------------------

    @property
    def active_stays(self) -> list[Stay]:
        return [s for s in self.stays if not s.is_void]

    @property
    def open_stay(self) -> Stay | None:
        stays = self.active_stays
        return stays[-1] if stays and stays[-1].is_open else None

    def stay_on(self, day: date) -> Stay:
        for stay in self.active_stays:
            if stay.holds(day):
                return stay
        raise RuleViolation(
            "outside_stay", f"{self.citizen_ref} has no stay on {day}: every event of a stay must take effect within it",
            "effective_date",
        )

    def _stay(self, stay_id: str) -> Stay:
        return next(s for s in self.stays if s.stay_id == stay_id)

    def _draft(self, meta: Meta, type_: str, offset: int = 0, **details: Any) -> dict[str, Any]:
        return {"event_id": meta.event_id, "type": type_, "effective_date": meta.effective_date,
                "sequence": len(self.entries) + 1 + offset, "active": True, **details}

    # Retraction --------------------------------------------------------------------------

    def check_retractable(self, target: Entry) -> None:
        stay = next(s for s in self.stays if any(f["event_id"] == target.event_id for f in s.facts))
        if target.type == MOVED_IN:
            if len(stay.active_facts()) > 1:
                raise RuleViolation(
                    "retract_later_events_first",
                    "a move-in can only be retracted when every later event of its stay is retracted first",
                    "event_id",
                )
        elif target.type == MOVED_OUT:
            if self.active_stays[-1] is not stay:
                raise RuleViolation(
                    "stays_overlap",
                    "retracting this move-out would reopen a stay that a later stay follows",
                    "event_id",
                )
        else:
            stay.check_every_day_has_a_rate(without=target.event_id)

    def on_retracted(self, target: Entry) -> None:
        for stay in self.stays:
            for fact in stay.facts:
                if fact["event_id"] == target.event_id:
                    fact["active"] = False


Citizen.FirstMovedIn.type_name = MOVED_IN  # type: ignore[attr-defined]
Citizen.MovedIn.type_name = MOVED_IN  # type: ignore[attr-defined]


def _move_in_fields(facility: str, paying_municipality: str, classification: Classification) -> dict[str, Any]:
    return {
        "facility": facility, "paying_municipality": paying_municipality, "assessment": classification.assessment,
        "hours_per_day": classification.hours_per_day, "level": classification.level,
    }


def _check_rate_in_request(
    classification: Classification, special_tariff: SpecialTariff | None, special_meta: Meta | None
) -> None:
    if special_tariff is not None and special_meta is not None:
        special_meta.require_reason()
    if classification.level is None and special_tariff is None:
        raise RuleViolation(
            "level_8_needs_special_tariff",
            f"{classification.hours_per_day} hours per day is at or above level 8: grant a special tariff "
            "(S1/S2) with the same request",
            "special_tariff",
        )


def _fact(citizen: Citizen, meta: Meta, type_: str, **details: Any) -> dict[str, Any]:
    sequence = len(getattr(citizen, "entries", {})) + 1
    return {"event_id": meta.event_id, "type": type_, "effective_date": meta.effective_date,
            "sequence": sequence, "active": True, **details}
