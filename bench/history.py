"""A municipality's ten-year history, simulated place by place and month by month
(2017-2026 by default) into `ledger import` commands in recording order; the same scale and
seed always give the same commands.

- Citizens move in to free places (never more citizens than places), are reassessed every few
  months (døgnskema or migrated hours, now and then above level 8 with a special tariff in the
  same request), get a yearly special-tariff adjustment, change paying municipality, and move
  out (moved, deceased, transferred: a transferred citizen moves in at the next free place
  elsewhere, as a second stay of the same reference). About 30 % of places are sold to other
  municipalities than 707.
- Finance publishes a tariff schedule for every year (one year is published again), revises
  rates every July, sets every facility's frame budget every year (some set again during the
  year; a `regulation` line from the third year), raises capacity now and then, closes each
  year with annual accounts in March and records baselines for the transition year 2026.
- Events are recorded in months: most in the month they take effect, some 1-4 months late and
  some over a year late (into closed years), so reads as of a date and the regulation's
  post-closing adjustments have work to do.
- Corrections (a wrong reassessment or paying municipality, a wrong move-out date, a move-in
  on the wrong citizen) are collected apart: a retraction names the id the ledger gives the
  event when it stores it, which no import line can know (bench/corrections.py).

Every command is valid when imported in order: events of a stay fall within it, a move-out is
on or after every event of its stay recorded before it, a level-8+ need comes with a special
tariff, a year's schedule is published before any assessment in that year.
The demo municipality's shapes are reused (service/demo.py): schedules, frame budgets,
døgnskemaer, and the `norddjurs` scale's twelve facilities.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterator

from service import demo

from bench.scales import Scale

HOME = "707"
BUYERS = demo.BUYERS + ["740", "746", "727", "615", "657", "661", "779", "810", "820", "840", "846", "849", "851",
                        "860", "630", "621", "671", "561"]
AREAS = ["Grenaa", "Auning", "Ørum", "Allingåbro", "Glesborg", "Vivild", "Trustrup", "Bønnerup", "Hemmed", "Voer",
         "Ebeltoft", "Rønde", "Kolind", "Ryomgård", "Hornslet", "Randers", "Hadsten", "Hinnerup", "Silkeborg",
         "Viborg", "Skive", "Holstebro", "Herning", "Horsens", "Vejle", "Kolding", "Esbjerg", "Odense", "Svendborg",
         "Næstved", "Roskilde", "Køge", "Hillerød", "Helsingør", "Aalborg", "Hjørring", "Thisted", "Frederikshavn"]
PREFIXES = ["Bostedet", "Bofællesskabet", "Botilbuddet", "Huset", "Gården", "Centret"]
WORDS = ["Stjernen", "Kysten", "Haven", "Møllen", "Engen", "Skoven", "Linden", "Bakken", "Fjorden", "Åen",
         "Egen", "Bøgen", "Solsikken", "Lærken", "Ankeret", "Fyrtårnet", "Vinden", "Lyngen", "Kilden", "Broen"]
LEVEL_HOURS = demo.HOURS  # all below level 8's upper bound (18 hours)
SPECIAL_HOURS = ["18.5", "19", "20.5", "22"]
LEVEL_CEILING = Decimal(18)


# How often things happen (per stay, per month or per event); tuned so that the event
# counts land near each scale's target (see `reassessment_days`).
P_SOLD = 0.3
P_SPECIAL = 0.03
P_ENTRIES = 0.65
P_DELAYED = 0.08
P_LATE = 0.004
P_PAYER_CHANGE = 0.006
P_TRANSFER = 0.15
P_CORRECT_REASSESSMENT = 0.015
P_CORRECT_MOVE_OUT = 0.03
P_CORRECT_PAYER = 0.1
P_MISTAKEN_MOVE_IN = 0.25
P_FRAME_AGAIN = 0.1
P_CAPACITY = 0.03
OCCUPANCY = 0.93


@dataclass
class Occupant:
    ref: str
    facility: str
    move_in: date
    move_out: date
    next_reassessment: date
    payer: str
    hours: str
    special: bool
    returning: bool = False
    """A citizen who came here by transfer (has an earlier stay): its move-out is never corrected."""


@dataclass
class Slot:
    facility: str
    free_from: date
    occupant: Occupant | None = None


@dataclass
class Counts:
    commands: int = 0
    events: int = 0
    corrections: int = 0
    correction_events: int = 0
    citizens: int = 0
    by_command: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def events_of(command: dict[str, Any]) -> int:
    """How many events the ledger stores for a command (a granted special tariff is one more)."""
    return 2 if command.get("special_tariff") else 1


def reassessment_days(scale: Scale) -> float:
    """The mean days between reassessments that brings the history near its target:
    what is left of the target per place-year after the facilities' own events, the stays'
    move-ins and move-outs and the rarer citizen events."""
    facility_events = scale.facilities * (1 + scale.years * (1 + P_FRAME_AGAIN) + scale.years - 1) \
        + scale.years + 1 + 2 * scale.years
    place_years = scale.places * scale.years * OCCUPANCY
    per_place_year = (scale.target_events * 0.985 - facility_events) / place_years
    stays = 2 / scale.mean_stay_years * 1.1
    others = 12 * (P_LATE + P_PAYER_CHANGE * P_SOLD) + P_SPECIAL * 1.5
    reassessments = max(0.5, per_place_year - stays - others) / (1 + P_SPECIAL)
    return 365 / reassessments


class History:
    """One municipality's history, generated month by month into an import file and a
    corrections file."""

    def __init__(self, scale: Scale, seed: int) -> None:
        self.scale, self.rng = scale, random.Random(f"{scale.name}:{seed}")
        self.counts = Counts()
        self.corrections: list[dict[str, Any]] = []
        self.delayed: dict[int, list[tuple[date, int, dict[str, Any]]]] = defaultdict(list)
        self.transfers: list[tuple[date, Occupant]] = []
        self.slots: list[Slot] = []
        self.places: dict[str, int] = {}
        self.facilities: list[tuple[str, str, str, str, int]] = self._facilities()
        self.mean_days = reassessment_days(scale)
        self.number = 0
        self.sequence = 0

    # Facilities --------------------------------------------------------------------------

    def _facilities(self) -> list[tuple[str, str, str, str, int]]:
        scale, rng = self.scale, self.rng
        if scale.name == "norddjurs":
            return list(demo.FACILITIES)
        sizes = [max(3, int(rng.gauss(scale.places / scale.facilities, scale.places / scale.facilities / 3)))
                 for _ in range(scale.facilities)]
        while sum(sizes) != scale.places:  # adjust to the exact total, one place at a time
            i = rng.randrange(len(sizes))
            if sum(sizes) > scale.places and sizes[i] > 3:
                sizes[i] -= 1
            elif sum(sizes) < scale.places:
                sizes[i] += 1
        result = []
        for n, places in enumerate(sizes, start=1):
            area = rng.choice(AREAS)
            kind = "bofaellesskab" if places <= 10 and rng.random() < 0.6 else "botilbud"
            name = f"{rng.choice(PREFIXES)} {rng.choice(WORDS)} {n}"
            code = f"{area[:3].upper().replace('Ø', 'OE').replace('Æ', 'AE').replace('Å', 'AA')}-{n:04d}"
            result.append((code, name, kind, area, places))
        return result

    # Commands ----------------------------------------------------------------------------

    def _next_ref(self, prefix: str = "BOR") -> str:
        self.number += 1
        return f"{prefix}-{self.number:07d}"

    def _case_ref(self, day: date) -> str:
        return f"27.12.04-G01-{self.rng.randint(1, 99999)}-{day.year % 100:02d}"

    def _assessment(self, hours: str) -> dict[str, Any]:
        if self.rng.random() < P_ENTRIES:
            return demo.døgnskema(hours, self.rng)
        return {"hours_per_day": hours}

    def _special(self) -> dict[str, str]:
        return {"code": self.rng.choice(["S1", "S2"]), "daily_rate": f"{self.rng.randint(6500, 9500)}.00"}

    def _hours(self, current: str | None = None) -> str:
        if self.rng.random() < P_SPECIAL:
            return self.rng.choice(SPECIAL_HOURS)
        if current is None or current not in LEVEL_HOURS:
            return self.rng.choice(LEVEL_HOURS)
        i = LEVEL_HOURS.index(current) + self.rng.choice([-2, -1, 0, 1, 1, 2])
        return LEVEL_HOURS[min(max(i, 0), len(LEVEL_HOURS) - 1)]

    def _reassessment(self, occupant: Occupant, day: date, reason: str) -> dict[str, Any]:
        hours = self._hours(occupant.hours)
        command: dict[str, Any] = {"command": "reassessment", "citizen_ref": occupant.ref,
                                   "effective_date": day.isoformat(), "assessment": self._assessment(hours),
                                   "reason": reason}
        if Decimal(hours) >= LEVEL_CEILING:
            command["special_tariff"] = self._special()
            command["reason"] = "Støttebehov ud over niveau 8: særtakst"
        occupant.hours, occupant.special = hours, Decimal(hours) >= LEVEL_CEILING
        return command

    def _move_in(self, slot: Slot, day: date, returning: Occupant | None) -> tuple[Occupant, dict[str, Any]]:
        rng = self.rng
        ref = returning.ref if returning else self._next_ref()
        self.counts.citizens += 0 if returning else 1
        payer = returning.payer if returning else (rng.choice(BUYERS) if rng.random() < P_SOLD else HOME)
        hours = self._hours(returning.hours if returning else None)
        stay = max(20, int(rng.expovariate(1 / (self.scale.mean_stay_years * 365))))
        occupant = Occupant(ref, slot.facility, day, day + timedelta(days=stay), self._after(day), payer, hours,
                            Decimal(hours) >= LEVEL_CEILING, returning is not None)
        command: dict[str, Any] = {"command": "move-in", "citizen_ref": ref, "facility": slot.facility,
                                   "effective_date": day.isoformat(), "paying_municipality": payer,
                                   "assessment": self._assessment(hours), "case_ref": self._case_ref(day)}
        if occupant.special:
            command["special_tariff"] = self._special()
            command["reason"] = "Støttebehov ud over niveau 8: særtakst"
        if returning:
            command["reason"] = f"Overflyttet fra {returning.facility}"
        return occupant, command

    def _after(self, day: date) -> date:
        return day + timedelta(days=max(14, int(self.rng.expovariate(1 / self.mean_days))))

    # Corrections -------------------------------------------------------------------------

    def _correct(self, ref: str, type_: str, day: date, reason: str, then: list[dict[str, Any]]) -> None:
        self.corrections.append({"find": {"citizen_ref": ref, "type": type_, "effective_date": day.isoformat()},
                                 "reason": reason, "then": then})
        self.counts.corrections += 1
        self.counts.correction_events += 1 + sum(events_of(c) for c in then)

    # The simulation ----------------------------------------------------------------------

    def commands(self) -> Iterator[dict[str, Any]]:
        """Every import command in recording order."""
        scale, rng = self.scale, self.rng
        start = date(scale.first_year, 1, 1)
        for code, name, kind, area, places in self.facilities:
            yield {"command": "register-facility", "code": code, "name": name, "kind": kind, "area": area,
                   "places": places, "effective_date": start.isoformat(), "case_ref": self._case_ref(start)}
            self.places[code] = places
            for _ in range(places):
                occupied = rng.random() < OCCUPANCY
                self.slots.append(Slot(code, start + timedelta(days=rng.randint(0, 75 if occupied else 150))))
        yield demo.schedule(scale.first_year)
        for code, *_ in self.facilities:
            yield self._frame(code, scale.first_year)
        months = [(year, month) for year in range(scale.first_year, scale.last_year + 1) for month in range(1, 13)]
        for index, (year, month) in enumerate(months):
            first = date(year, month, 1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            batch = self.delayed.pop(index, [])
            batch += self._citizens(index, first, last)
            batch += self._finance(year, month, last)
            batch.sort(key=lambda item: (item[0], item[1]))
            for _, _, command in batch:
                yield command

    def _key(self, day: date, command: dict[str, Any]) -> tuple[date, int, dict[str, Any]]:
        self.sequence += 1
        return day, self.sequence, command

    def _citizens(self, index: int, first: date, last: date) -> list[tuple[date, int, dict[str, Any]]]:
        rng, out = self.rng, []
        for slot in self.slots:
            occupant = slot.occupant
            if occupant is None:
                if slot.free_from > last:
                    continue
                day = max(slot.free_from, first)
                returning = self._take_transfer(day, slot.facility)
                if returning is not None:
                    day = max(day, returning[0] + timedelta(days=1))
                    if day > last:
                        self.transfers.append(returning)
                        continue
                occupant, command = self._move_in(slot, day, returning[1] if returning else None)
                slot.occupant = occupant
                out.append(self._key(day, command))
            self._stay_month(occupant, index, first, last, out)
            if occupant.move_out <= last:
                out.append(self._key(occupant.move_out, self._move_out(occupant)))
                slot.occupant = None
                slot.free_from = occupant.move_out + timedelta(days=rng.randint(7, 60))
        if rng.random() < P_MISTAKEN_MOVE_IN * len(self.places) / 12:
            day = first + timedelta(days=rng.randint(0, (last - first).days))
            ref = self._next_ref("FEJL")
            out.append(self._key(day, {"command": "move-in", "citizen_ref": ref,
                                       "facility": rng.choice(list(self.places)), "effective_date": day.isoformat(),
                                       "paying_municipality": HOME, "assessment": {"hours_per_day": "3.5"}}))
            self._correct(ref, "CitizenMovedIn", day, "Indflytning registreret på forkert borger", [])
        self.transfers = [t for t in self.transfers if (first - t[0]).days < 60]
        return out

    def _take_transfer(self, day: date, facility: str) -> tuple[date, Occupant] | None:
        for i, (out_day, occupant) in enumerate(self.transfers):
            if out_day < day and occupant.facility != facility:
                return self.transfers.pop(i)
        return None

    def _stay_month(self, occupant: Occupant, index: int, first: date, last: date,
                    out: list[tuple[date, int, dict[str, Any]]]) -> None:
        rng = self.rng
        while occupant.next_reassessment <= last and occupant.next_reassessment < occupant.move_out:
            day = occupant.next_reassessment
            command = self._reassessment(occupant, day, "Revurdering efter VUM 2.0")
            if rng.random() < P_DELAYED:
                self.delayed[index + rng.randint(1, 4)].append(self._key(day, command))
            else:
                out.append(self._key(day, command))
                if "special_tariff" not in command and rng.random() < P_CORRECT_REASSESSMENT:
                    hours = rng.choice(LEVEL_HOURS)
                    occupant.hours, occupant.special = hours, False
                    right = {**command, "assessment": self._assessment(hours), "reason": "Rettet døgnskema"}
                    self._correct(occupant.ref, "CitizenReassessed", day, "Forkert døgnskema registreret", [right])
            occupant.next_reassessment = self._after(day)
        if first.month == 1 and occupant.special and occupant.move_in < first < occupant.move_out:
            day = first + timedelta(days=14)
            if day < occupant.move_out:
                out.append(self._key(day, {"command": "special-tariff", "citizen_ref": occupant.ref,
                                           "effective_date": day.isoformat(), **self._special(),
                                           "reason": "Årlig regulering af særtakst"}))
        if occupant.payer != HOME and rng.random() < P_PAYER_CHANGE:
            day = first + timedelta(days=rng.randint(0, (last - first).days))
            if occupant.move_in < day < occupant.move_out:
                occupant.payer = rng.choice([b for b in BUYERS if b != occupant.payer])
                out.append(self._key(day, {"command": "paying-municipality", "citizen_ref": occupant.ref,
                                           "effective_date": day.isoformat(), "paying_municipality": occupant.payer,
                                           "reason": "Ny handlekommune"}))
                if rng.random() < P_CORRECT_PAYER:
                    right = rng.choice([b for b in BUYERS if b != occupant.payer])
                    occupant.payer = right
                    self._correct(occupant.ref, "PayingMunicipalityChanged", day, "Forkert handlekommune",
                                  [{"command": "paying-municipality", "citizen_ref": occupant.ref,
                                    "effective_date": day.isoformat(), "paying_municipality": right,
                                    "reason": "Rettet handlekommune"}])
        if rng.random() < P_LATE and (first - occupant.move_in).days > 120:
            day = first - timedelta(days=rng.randint(60, min(420, (first - occupant.move_in).days - 1)))
            out.append(self._key(first, self._reassessment(occupant, day, "Sen revurdering med tilbagevirkende kraft")))

    def _move_out(self, occupant: Occupant) -> dict[str, Any]:
        rng = self.rng
        kind = "transferred" if rng.random() < P_TRANSFER else rng.choice(["moved", "moved", "deceased"])
        command = {"command": "move-out", "citizen_ref": occupant.ref, "effective_date": occupant.move_out.isoformat(),
                   "kind": kind}
        if kind == "transferred":
            self.transfers.append((occupant.move_out, occupant))
        elif not occupant.returning and rng.random() < P_CORRECT_MOVE_OUT:
            later = occupant.move_out + timedelta(days=rng.randint(1, 14))
            self._correct(occupant.ref, "CitizenMovedOut", occupant.move_out, "Forkert fraflytningsdato",
                          [{**command, "effective_date": later.isoformat(), "reason": "Rettet fraflytningsdato"}])
        return command

    def _finance(self, year: int, month: int, last: date) -> list[tuple[date, int, dict[str, Any]]]:
        rng, scale, out = self.rng, self.scale, []
        if month == 2 and year == scale.first_year + 4:
            again = demo.schedule(year)
            again["hourly_rate"] = str((Decimal(again["hourly_rate"]) + Decimal("4.50")).quantize(Decimal("0.01")))
            again["reason"] = f"Takster {year} genudsendt: rettet timesats"
            out.append(self._key(last, again))
        if month == 3 and year > scale.first_year:
            for code, *_ in self.facilities:
                out.append(self._key(last, self._accounts(code, year - 1)))
        if month == 6:
            for level in rng.sample(range(1, 9), rng.randint(1, 3)):
                rate = Decimal(demo.schedule(year)["levels"][level - 1]["daily_rate"]) * Decimal("1.015")
                out.append(self._key(last, {"command": "revision", "year": year, "level": level,
                                            "daily_rate": str(rate.quantize(Decimal("0.01"))),
                                            "effective_date": date(year, 7, 1).isoformat(),
                                            "reason": "Ny overenskomst"}))
            for code, *_ in self.facilities:
                if rng.random() < P_FRAME_AGAIN:
                    out.append(self._key(last, self._frame(code, year, "Rammebudget tilpasset efter budgetopfølgning")))
        if month == 12:
            out.append(self._key(last, demo.schedule(year + 1)))
            for code, *_ in self.facilities:
                if year < scale.last_year and rng.random() < P_CAPACITY:
                    added = rng.randint(1, 3)
                    self.places[code] += added
                    day = date(year + 1, 1, 1)
                    self.slots.extend(Slot(code, day + timedelta(days=rng.randint(0, 60))) for _ in range(added))
                    out.append(self._key(last, {"command": "capacity", "code": code, "places": self.places[code],
                                                "effective_date": day.isoformat(), "reason": "Nye pladser"}))
                if year < scale.last_year:
                    out.append(self._key(last, self._frame(code, year + 1)))
                if year + 1 == 2026 and scale.first_year < 2026 <= scale.last_year:
                    out.append(self._key(last, {"command": "baseline", "code": code, "year": 2026,
                                                "baseline_budget": f"{self.places[code] * 1400}000.00",
                                                "phase_in_pct": "50"}))
        return out

    def _frame(self, code: str, year: int, reason: str | None = None) -> dict[str, Any]:
        command = demo.frame(code, self.places[code], year, self.rng)
        if year >= self.scale.first_year + 2:
            amount = Decimal(self.rng.randint(-400_000, 400_000))
            command["lines"].append({"category": "regulation", "amount": f"{amount}.00"})
        if reason:
            command["reason"] = reason
        return command

    def _accounts(self, code: str, year: int) -> dict[str, Any]:
        places = self.places[code]
        factor = Decimal("1.03") ** (year - 2025)
        basis = Decimal(places) * (Decimal(355_000) + Decimal(OCCUPANCY) * 365 * 2600) * factor
        costs = basis * Decimal(self.rng.uniform(0.95, 1.07))
        return {"command": "accounts", "code": code, "year": year, "actual_costs": f"{costs:.2f}",
                "reason": f"Årsregnskab {year}"}
