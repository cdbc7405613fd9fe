"""The budget projection: follows the ledger's events one at a time, in recording order, and
says which read-model rows change at each position (docs/adr/0006).

It keeps the aggregates as the events left them (facilities, tariff schedules, citizens),
applying each event with the domain's own `mutate`, so every rule about what counts
(retractions, the latest effective then latest recorded, a special tariff until the next level)
is the domain's, never re-implemented here. Schedules are few and all held. Citizens are many,
and an event needs only its own citizen's stays before and after it: the projection holds the
citizens it applied events to last (a bounded LRU), and a citizen it does not hold is loaded
from the store by its stream, at the version before the event (`AggregateLoader`, injected by
the service), or unpickled when it is among the citizens let go of that it keeps pickled (a
bounded number of bytes, docs/adr/0055). Facilities are held the same way (a smaller LRU: a
facility's frame budgets make it large, and its events are rare); of every facility the
projection keeps only its stream and the latest year of its active frame budgets (the
horizon's). What concerns every stay
(a schedule repricing a year or setting the run-off of the stays ending in a year beyond the
horizon, the horizon raised or lowered, the tails computed again) is computed from the stay
rows, not from the citizens, a page of stays at a time (`stay_pages`, docs/adr/0041). From them
it keeps the current value of the read-model rows (with a stay reader injected, the stay rows
and statement lines of the held citizens' stays only: a stay's rows are a function of its
facts, the schedules and the horizon, so those of a citizen loaded are computed again, and an
event that changes the lines of stays not held borrows them, from 1 January of the first year
it changes, since a year's lines are written as one row):

- `year` rows, per facility and year: what the stays add to each of its months (activity,
  present and funded days, sold days, support hours, citizens by level at month end): the sum
  of the stays' `StayMonth`s, kept month by month by adding what a changed stay adds now and
  taking away what it added before, and written as one row of the twelve months for every
  facility-year whose months an event changed (docs/adr/0039);
- `line` rows, per paying municipality, year and stay: the stay's statement lines of each
  month of the year (`projections.statements.year_of_lines`), kept by month and written as
  one row per year an event changed;
- `stay` rows: each stay's facts (move-in, conditions by date, move-out and its kind, the
  assessments in force), for the reads that compute a facility's stays as of a point
  (docs/adr/0014) and for a citizen's reads (docs/adr/0035);
- `fact` rows: a facility's name, places and capacity changes; a facility-year's frame
  budget (with basistakst) and baseline; a year's schedule (hourly rate, run-off) and its
  rates (levels, revisions in force); the horizon;
- `posting` rows, appended and never changed: how much an event changed a year's present
  days of a facility in each group that prices them (`projections.regulation.day_groups`:
  paying municipality, level, special tariff, service rate), taken from the same segments as
  the months, so that the sum of a year's postings up to a point is that year's groups as the
  year rows hold them then (the what-if's days, docs/adr/0047);
- `tail` rows: each facility's open tail, its stays' funded days after the horizon's last day
  grouped (projections/tails.py), kept from the changed stays' tails before and after, and
  computed again from every stay when the horizon moves; `tail_checkpoint` gives every
  facility's groups at once, which the projector writes every few thousand positions
  (docs/adr/0042).

The horizon is the last year whose year rows are kept: the latest year of a published
schedule or a set frame budget, but never later than the year after the latest event's
recording time (`cap`, docs/adr/0040). An open stay is counted up to the horizon's last day;
reads of a later year are computed from the stay rows and the facts instead (priced by the
rates fact of their year, funded by their frame: docs/adr/0040). The horizon rises when a
schedule or frame reaches a later year within the cap, or when the cap rises to a year one
reaches; it is lowered, and the rows of the years beyond it dropped, when the schedule or
frame that reached the latest year is retracted.

The same events in the same order always give the same changes, however they are batched:
that is what makes a rebuild equal to following.
"""

from __future__ import annotations

import json
import pickle
from collections import OrderedDict, defaultdict
from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import date, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator
from uuid import UUID

from domain.citizen import Citizen
from domain.facility import Facility
from domain.ledger import LedgerAggregate, public_type
from domain.values import ZERO
from domain.tariff_schedule import TariffSchedule
from projections.budget import BudgetMonth, Month, NetMonth, StayFacts, StayMonth, months_of_segments, stay_segments
from projections.regulation import day_groups
from projections.frame import basistakst, frame_total
from projections.statements import statement_lines, year_of_lines
from projections.stays import StayRecord, stay_of, stay_value
from projections.tails import Group, stay_tail

MonthKey = tuple[str, int, int]
"""(facility code, year, month): the state's key of a month's figures."""
YearKey = tuple[str, int]
"""(facility code, year): a `year` row's key."""
FactKey = tuple[str, str, int]
"""(kind, facility code or "", year or 0)"""
LineMonthKey = tuple[str, int, int, str]
"""(paying municipality, year, month, stay id): the state's key of a month's statement line."""
LineKey = tuple[str, int, str]
"""(paying municipality, year, stay id): a `line` row's key."""
YearValue = tuple[BudgetMonth | None, ...]
"""The twelve months of a facility-year (None: a month without figures)."""
StayKey = tuple[str]
"""(stay id,)"""
TailKey = tuple[Any, ...]
"""(facility code, *`TailPiece.columns()`)"""
PostingKey = tuple[str, int, str, int, str, Decimal]
"""(facility code, *`projections.regulation.DayGroup`): a `posting` row's key."""
Delta = dict[MonthKey, NetMonth]
"""What stays add to (+1) or take from (-1) each facility-month."""
AggregateLoader = Callable[[UUID, int], Any]
"""The citizen or facility of a stream as its first `version` events left it (version ≥ 1),
from the store."""
StayReader = Callable[[date | None, date | None, str, int], dict[str, str]]
"""Stay rows the read models hold now (written), by stay id, in the store's order of the ids:
at most `limit` of those after the id `after` ("": from the first), and among them at least
every stay with a funded day in [first, last] (None: unbounded), maybe more. A page shorter
than `limit` is the last."""
YearReader = Callable[[str | None, int], dict[YearKey, YearValue]]
"""The facility-year rows of `year` valid now in the read models: of one facility, or of every
facility (None)."""
FactReader = Callable[[str], dict[FactKey, str]]
"""A facility's own fact rows (`FACILITY_FACTS`) valid now in the read models."""
FACILITY_FACTS = ("facility", "frame", "accounts", "baseline")
"""The kinds of fact that belong to one facility (a schedule's, the rates and the horizon do not)."""


@dataclass(frozen=True)
class Change:
    """From this event's position on, the row `key` of `table` holds `value` (None: no row)."""

    table: str
    key: YearKey | FactKey | LineKey | StayKey | TailKey | PostingKey
    value: YearValue | str | Group | int | None
    replaces: bool
    """True when a row held the key before this change (it is closed at this position)."""


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class BudgetProjection:
    """In-memory state of the budget read models, advanced one event at a time."""

    def __init__(self, load_aggregate: AggregateLoader | None = None, citizens: int = 4096,
                 read_stays: StayReader | None = None, read_years: YearReader | None = None,
                 facility_years: int = 2048, stay_page: int = 1000, facilities: int = 64,
                 read_facts: FactReader | None = None, packed_bytes: int = 0) -> None:
        """With `load_aggregate` (it loads citizens and facilities), at most `citizens`
        citizens and `facilities` facilities are held (the last used), the others loaded
        again when an event of theirs comes; without it every aggregate is held. With
        `read_stays` too, the stay rows and statement lines are held only for the stays of the
        citizens held and those changed since the rows were last written (`written`). With
        `read_years`, at most `facility_years` facility-years' months are held once the rows
        are written (the last used); the others are read from their rows when needed. A step
        that goes through every stay holds `stay_page` of them at a time (`stay_pages`). With
        `read_facts` too, a facility's own facts are held while it is (and until they are
        written), read from their rows when it is loaded again. With `packed_bytes`, the
        citizens let go of are kept pickled, up to that many bytes (the last let go of), and
        taken from there rather than from the store when an event of theirs comes."""
        self.facilities: OrderedDict[UUID, Facility] = OrderedDict()
        """The facilities held, the least recently used first."""
        self.facility_limit = max(1, facilities) if load_aggregate is not None else None
        self.facility_streams: set[UUID] = set()
        """The stream of every facility (a retraction there is a facility's)."""
        self.frame_years: dict[UUID, int] = {}
        """Each facility's latest year of an active frame budget (none: absent)."""
        self.schedules: dict[int, TariffSchedule] = {}
        self.schedule_years: dict[UUID, int] = {}
        self.citizens: OrderedDict[UUID, Citizen] = OrderedDict()
        """The citizens held, the least recently used first."""
        self.load_aggregate = load_aggregate
        self.citizen_limit = max(1, citizens) if load_aggregate is not None else None
        self.packed: OrderedDict[UUID, bytes] = OrderedDict()
        """The citizens let go of, pickled, the least recently let go of first."""
        self.packed_limit = max(0, packed_bytes) if load_aggregate is not None else 0
        self._packed_bytes = 0
        self.read_stays = read_stays if load_aggregate is not None else None
        self.stay_page = max(1, stay_page)
        self._gone: set[str] = set()
        """Stays whose rows were dropped since the rows were last written (the read models
        still hold them)."""
        self._let_go: dict[UUID, list[str] | None] = {}
        """The citizens let go of since the rows were last written, with their stays (None: not
        known): those stays' rows and lines are let go of too (`written`)."""
        self._let_go_since_sweep = 0
        """Citizens let go of since `written` last went through every held citizen."""
        self._borrowed: set[str] = set()
        """Stays not held whose statement lines the current event holds from 1 January of the
        first year it may change (`stay_pages`): let go of when it is applied."""
        self.horizon: int | None = None
        self.cap: int | None = None
        """The year after the latest event's recording time: the horizon never passes it."""
        self.months: dict[MonthKey, BudgetMonth] = {}
        """The months of the facility-years held (all without `read_years`)."""
        self.read_years = read_years
        self.year_limit = max(1, facility_years) if read_years is not None else None
        self._years: OrderedDict[YearKey, None] = OrderedDict()
        """The facility-years whose months are held, the least recently used first."""
        self.facts: dict[FactKey, str] = {}
        self.read_facts = read_facts if load_aggregate is not None else None
        self._fact_codes: set[str] = set()
        """The facilities whose own facts are held (with `read_facts`)."""
        self.lines: dict[LineMonthKey, str] = {}
        """Statement lines: a stay's present days paid by another municipality, by month."""
        self.line_keys: dict[str, set[LineMonthKey]] = {}
        self.stay_rows: dict[StayKey, str] = {}
        """Each stay's facts (`projections.stays`), by stay id: of every stay, or with
        `read_stays` of the stays held (their statement lines are held with them)."""
        self.tails: dict[TailKey, Group] = {}
        """Each facility's open tail after the horizon's last day: citizens and hours per group."""
        self._tail_horizon: int | None = None
        """The horizon the tails were computed after."""
        self._before: dict[tuple[str, Any], Any] = {}
        """Rows the current event has changed, with their values before it."""
        self._posted: dict[PostingKey, int] = defaultdict(int)
        """How the current event changes the present days of each facility-year's groups."""
        self._stays: dict[UUID, list[StayFacts]] = {}
        """Each held citizen's stays as last computed (dropped when a schedule changes or the
        citizen is no longer held)."""
        self._rates: dict[tuple[int, date], Decimal | None] = {}
        self._revisions: frozenset[date] | None = None
        """Rates of a level on a day, and the days of rate revisions, as the schedules say
        now (dropped when a schedule changes)."""

    def apply(self, event: Any) -> list[Change]:
        """Apply one domain event; return the rows it changes, in a stable order."""
        self._before, self._posted = {}, defaultdict(int)
        if self._recorded(event):
            self._move_horizon()  # the first event recorded in a new year: a configured year may be in reach
        stream = event.originator_id
        # A retraction's class is the shared LedgerAggregate.EntryRetracted: know it by its stream.
        # Every facility's stream and every schedule is known (each stream's first event creates
        # it), so a retraction in any other stream is a citizen's.
        if stream in self.facility_streams or isinstance(event, Facility.Event):
            self._facility_event(event)
        elif stream in self.schedule_years or isinstance(event, TariffSchedule.Event):
            self._schedule_event(event)
        elif isinstance(event, (Citizen.Event, LedgerAggregate.Event)):
            self._citizen_event(event)
        if self.horizon != self._tail_horizon:
            self._retail()
        changes = self._changes()
        for stay_id in self._borrowed:
            if (stay_id,) in self.stay_rows:
                continue  # held since it was borrowed (its citizen loaded): its lines with it
            for key in self.line_keys.pop(stay_id, ()):
                self.lines.pop(key, None)
        self._borrowed = set()
        return changes

    def replay(self, event: Any) -> None:
        """Apply one event to the aggregates only, computing no rows."""
        self._recorded(event)
        stream = event.originator_id
        if stream in self.facility_streams or isinstance(event, Facility.Event):
            self._hold_facility(event.mutate(self._facility(stream, event.originator_version - 1)))
        elif stream in self.schedule_years or isinstance(event, TariffSchedule.Event):
            year = self.schedule_years.get(stream) or event.year
            self.schedules[year], self.schedule_years[stream] = event.mutate(self.schedules.get(year)), year
            self._stays, self._rates, self._revisions = {}, {}, None
        elif isinstance(event, (Citizen.Event, LedgerAggregate.Event)):
            self._hold(stream, event.mutate(self._citizen(stream, event.originator_version - 1)))
            self._stays.pop(stream, None)

    def take(self, aggregate: Facility | TariffSchedule) -> None:
        """Take a facility or a tariff schedule as the store has it at the position the rows
        are restored to (`restore`): with them, how a projector picks up where the read models
        are (citizens come from the store as their events do)."""
        if isinstance(aggregate, Facility):
            self._hold_facility(aggregate)
        else:
            self.schedules[aggregate.year], self.schedule_years[aggregate.id] = aggregate, aggregate.year
            self._stays, self._rates, self._revisions = {}, {}, None

    def restore(self, years: dict[YearKey, YearValue], facts: dict[FactKey, str],
                lines: dict[LineKey, str], stays: dict[StayKey, str], tails: dict[TailKey, Group] | None = None,
                cap: int | None = None) -> None:
        """Take the rows the read models hold at the position the facilities and schedules
        were taken at (`take`), and the cap the events up to it set: the state is then the one
        `apply` would have reached."""
        self.months, self._years = {}, OrderedDict()
        for key, months in years.items():
            self._take_year(key, months)
        self.facts, self.lines = dict(facts), {}
        self._fact_codes = {code for kind, code, _ in self.facts if kind in FACILITY_FACTS}
        if cap is not None:
            self.cap = cap
        for (payer, year, stay_id), text in lines.items():
            value = json.loads(text)
            for month, periods in value["months"].items():
                self.lines[(payer, year, int(month), stay_id)] = canonical(
                    {"facility": value["facility"], "periods": periods})
        self.stay_rows = dict(stays)
        self.tails = dict(tails or {})
        self.line_keys = {}
        for key in self.lines:
            self.line_keys.setdefault(key[3], set()).add(key)
        horizon = self.facts.get(("horizon", "", 0))
        self.horizon = None if horizon is None else json.loads(horizon)["year"]
        self._tail_horizon = self.horizon

    def _recorded(self, event: Any) -> bool:
        """Take the event's recording time: True when it raises the cap. The store records an
        event at its own timestamp, raised to the latest recorded before it (service/store.py),
        so the latest timestamp so far is the latest event's `recorded_at`: the cap is a
        function of the events in order, never of a clock read here."""
        cap = event.timestamp.astimezone(timezone.utc).year + 1
        if self.cap is not None and cap <= self.cap:
            return False
        self.cap = cap
        return True

    def _table(self, name: str) -> dict[Any, Any]:
        return {"month": self.months, "fact": self.facts, "line": self.lines, "stay": self.stay_rows,
                "tail": self.tails}[name]

    def _changes(self) -> list[Change]:
        """One change per row the event left different (a row can change more than once
        within one event, e.g. when the horizon is raised and then the rates change): the
        months and the monthly statement lines it changed are written as their years' rows."""
        changes = []
        years: dict[YearKey, dict[int, BudgetMonth | None]] = defaultdict(dict)
        line_years: dict[LineKey, dict[int, str | None]] = defaultdict(dict)
        for (table, key), before in self._before.items():
            if table == "month":
                years[key[:2]][key[2]] = before
            elif table == "line":
                line_years[(key[0], key[1], key[3])][key[2]] = before
            elif (after := self._table(table).get(key)) != before:
                changes.append(Change(table, key, after, before is not None))
        for (facility, year), months_before in years.items():
            after = self.year_row(facility, year)
            before = tuple(months_before[m] if m in months_before else now for m, now in enumerate(after, 1))
            if after != before:
                changes.append(Change("year", (facility, year), after if any(m is not None for m in after) else None,
                                      any(m is not None for m in before)))
        for key, lines_before in line_years.items():
            now = self._lines_of_year(key)
            was = tuple(lines_before[m] if m in lines_before else line for m, line in enumerate(now, 1))
            if now != was:
                changes.append(Change("line", key, self._line_row(now), any(line is not None for line in was)))
        changes.extend(Change("posting", key, days, False) for key, days in self._posted.items() if days)
        return sorted(changes, key=lambda change: (change.table, change.key))

    def year_row(self, facility: str, year: int) -> YearValue:
        """The twelve months of a facility-year as the state holds them."""
        self._hold_year(facility, year)
        return tuple(self.months.get((facility, year, month)) for month in range(1, 13))

    def _hold_year(self, facility: str, year: int) -> None:
        """Hold the facility-year's months: read its row when not held (`read_years`)."""
        key = (facility, year)
        if key in self._years:
            self._years.move_to_end(key)
        elif self.read_years is not None:
            self._take_year(key, self.read_years(facility, year).get(key))

    def _take_year(self, key: YearKey, months: YearValue | None) -> None:
        self._years[key] = None
        for month, figures in enumerate(months or (), 1):
            if figures is not None:
                self.months[(*key, month)] = figures.shared()

    def _lines_of_year(self, key: LineKey) -> tuple[str | None, ...]:
        payer, year, stay_id = key
        return tuple(self.lines.get((payer, year, month, stay_id)) for month in range(1, 13))

    @staticmethod
    def _line_row(months: tuple[str | None, ...]) -> str | None:
        """A year's monthly statement lines of one stay and payer as its row (None: no line)."""
        found = {month: json.loads(text) for month, text in enumerate(months, 1) if text is not None}
        if not found:
            return None
        facility = next(iter(found.values()))["facility"]
        return canonical(year_of_lines(facility, {month: value["periods"] for month, value in found.items()}))

    # Citizens ----------------------------------------------------------------------------

    def _citizen_event(self, event: Any) -> None:
        before = self._citizen(event.originator_id, event.originator_version - 1)
        old = self._stays_of_citizen(event.originator_id, before)
        citizen = event.mutate(before)
        self._hold(event.originator_id, citizen)
        new = self._stays[event.originator_id] = self.stays_of(citizen)
        unchanged = set(old) & set(new)
        old, new = [s for s in old if s not in unchanged], [s for s in new if s not in unchanged]
        since = self._first_differences(old, new)
        self._shift(old, new, since=since)
        self._reline(new, {s.stay_id for s in old}, since)
        self._shift_tails(old, new)
        for stay_id in {s.stay_id for s in old} - {s.stay_id for s in new}:
            self._set_row("stay", (stay_id,), None)  # a move-in retracted: the stay never was
        # Every stay of the citizen, not only those whose facts changed: the move-out's kind
        # and the assessments in force can change while the conditions stay the same.
        records = {stay.stay_id: stay for stay in citizen.active_stays}
        for stay in self._stays[event.originator_id]:
            self._set_row("stay", (stay.stay_id,), stay_value(stay, StayRecord.of(records[stay.stay_id])))

    def _held_or_loaded(self, held: OrderedDict[UUID, Any], stream: UUID, version: int) -> tuple[Any, bool]:
        """The aggregate of `stream` as its first `version` events left it, and whether it was
        loaded: held (then the last used), else from the store (None before its first event)."""
        aggregate = held.get(stream)
        if aggregate is not None:
            held.move_to_end(stream)
            return aggregate, False
        if version < 1 or self.load_aggregate is None:
            return None, False
        return self.load_aggregate(stream, version), True

    def _citizen(self, citizen_id: UUID, version: int) -> Citizen | None:
        """The citizen as its first `version` events left it (`_held_or_loaded`); one loaded
        has its stays computed and their rows held."""
        citizen, loaded = self._unpacked(citizen_id, version), True
        if citizen is None:
            citizen, loaded = self._held_or_loaded(self.citizens, citizen_id, version)
        if not loaded:
            return citizen  # type: ignore[no-any-return]
        stays = self._stays[citizen_id] = self.stays_of(citizen)
        records = {stay.stay_id: stay for stay in citizen.active_stays}
        self._hold_rows(stays, lambda stay: canonical(stay_value(stay, StayRecord.of(records[stay.stay_id]))))
        return citizen

    def _hold_rows(self, stays: list[StayFacts], row: Callable[[StayFacts], str]) -> None:
        """Hold the stay rows and statement lines of `stays` not held (as they were written:
        the rows of a stay are a function of its facts, the schedules and the horizon);
        `row(stay)` is its stay row."""
        for stay in stays:
            if self.read_stays is None or (stay.stay_id,) in self.stay_rows or stay.stay_id in self._gone:
                continue
            self.stay_rows[(stay.stay_id,)] = row(stay)
            if self.horizon is not None and stay.ever_sold:
                lines = self._line_values(stay)
                self.lines.update((key, canonical(value)) for key, value in lines.items())
                if lines:
                    self.line_keys[stay.stay_id] = set(lines)

    def written(self) -> None:
        """The rows changed so far are in the read models: let go of the stay rows and
        statement lines of the stays no held citizen has (read again when needed)."""
        while self.year_limit is not None and len(self._years) > self.year_limit:
            (facility, year), _ = self._years.popitem(last=False)
            for month in range(1, 13):
                self.months.pop((facility, year, month), None)
        if self.read_facts is not None and len(self._fact_codes) > len(self.facilities):
            held = {facility.code for facility in self.facilities.values()}
            for key in [key for key in self.facts if key[0] in FACILITY_FACTS and key[1] not in held]:
                del self.facts[key]
            self._fact_codes &= held
        if self.read_stays is None or not (self._let_go or self._gone):
            return  # every stay row and line held is a held citizen's
        self._let_go_since_sweep += len(self._let_go)
        if self._gone or None in self._let_go.values() or self._let_go_since_sweep >= (self.citizen_limit or 1):
            self._sweep()
        else:
            self._drop_stays(self._stays_let_go())
        self._gone, self._let_go = set(), {}

    def _drop_stays(self, stay_ids: Iterable[str]) -> None:
        """Let go of the stay rows and statement lines of these stays."""
        for stay_id in stay_ids:
            self.stay_rows.pop((stay_id,), None)
            for key in self.line_keys.pop(stay_id, ()):
                self.lines.pop(key, None)

    def _stays_let_go(self) -> set[str]:
        """The stays of the citizens let go of that no held citizen has (a stay is one
        citizen's: its id is its move-in's event id)."""
        stays: set[str] = set()
        for citizen_id, stay_ids in self._let_go.items():
            citizen = self.citizens.get(citizen_id)
            kept = set() if citizen is None else {s.stay_id for s in self._stays_of_citizen(citizen_id, citizen)}
            stays.update(stay_id for stay_id in stay_ids or () if stay_id not in kept)
        return stays

    def _sweep(self) -> None:
        """Let go of every stay row and line no held citizen has: after a stay is gone, a citizen
        let go of with its stays not known, and once for every `citizen_limit` let go of (so
        any row held by a step that did not say whose it was is let go of in time, at a cost
        shared by as many events)."""
        held = {stay.stay_id for cid, citizen in self.citizens.items()
                for stay in self._stays_of_citizen(cid, citizen)}
        self._drop_stays({key[0] for key in self.stay_rows if key[0] not in held}
                         | {stay_id for stay_id in self.line_keys if stay_id not in held})
        self._let_go_since_sweep = 0

    def _hold(self, citizen_id: UUID, citizen: Citizen) -> None:
        """Hold the citizen as the last used; let go of the least recently used beyond the limit."""
        self.citizens[citizen_id] = citizen
        self.citizens.move_to_end(citizen_id)
        while self.citizen_limit is not None and len(self.citizens) > self.citizen_limit:
            gone, aggregate = self.citizens.popitem(last=False)
            stays = self._stays.pop(gone, None)
            self._let_go[gone] = None if stays is None else [stay.stay_id for stay in stays]
            self._pack(gone, aggregate)

    def _pack(self, citizen_id: UUID, citizen: Citizen) -> None:
        """Keep a citizen let go of pickled (`packed_bytes`), letting go of the least recently
        packed beyond the limit: a pickled citizen is far smaller than a held one with its stays,
        and comes back faster than from the store (docs/adr/0055)."""
        if not self.packed_limit:
            return
        blob = pickle.dumps(citizen, protocol=pickle.HIGHEST_PROTOCOL)
        self._packed_bytes += len(blob) - len(self.packed.pop(citizen_id, b""))
        self.packed[citizen_id] = blob
        while self._packed_bytes > self.packed_limit:
            _, dropped = self.packed.popitem(last=False)
            self._packed_bytes -= len(dropped)

    def _unpacked(self, citizen_id: UUID, version: int) -> Citizen | None:
        """The citizen as its first `version` events left it, from the pickled ones when it is
        there at that version (None: not held there, or at another version)."""
        if citizen_id in self.citizens:
            return None
        blob = self.packed.pop(citizen_id, None)
        if blob is None:
            return None
        self._packed_bytes -= len(blob)
        citizen: Citizen = pickle.loads(blob)
        return citizen if citizen.version == version else None

    def _stays_of_citizen(self, citizen_id: UUID, citizen: Citizen | None) -> list[StayFacts]:
        if citizen is None:
            return []
        if citizen_id not in self._stays:
            self._stays[citizen_id] = self.stays_of(citizen)
        return self._stays[citizen_id]

    @staticmethod
    def _first_differences(old: list[StayFacts], new: list[StayFacts]) -> dict[str, date]:
        """Per stay in both lists, the first of the month from which the versions may differ:
        the months before it are the same and need not be recomputed."""
        before = {s.stay_id: s for s in old}
        since = {}
        for stay in new:
            if stay.stay_id in before:
                day = stay.first_difference(before[stay.stay_id])
                since[stay.stay_id] = date(day.year, day.month, 1)
        return since

    def stays_of(self, citizen: Citizen) -> list[StayFacts]:
        return [StayFacts(citizen.citizen_ref, stay.move_in, stay.move_out, tuple(stay.conditions()),
                          self.runoff_of(stay.move_out), stay.facility, stay.stay_id)
                for stay in citizen.active_stays]

    def runoff_of(self, move_out: date | None) -> int:
        """The run-off of a stay that moves out on `move_out`: its year's published schedule's,
        else one month."""
        if move_out is not None:
            schedule = self.schedules.get(move_out.year)
            if schedule is not None and schedule.is_published:
                return schedule.runoff_months
        return 1

    def stay_pages(self, first: date | None = None, last: date | None = None, lines: bool = True
                   ) -> Iterator[list[StayFacts]]:
        """Every stay with a funded day in [first, last] (None: unbounded) as its row holds it,
        with the run-off the schedules set now (and no citizen reference: the months, statement
        lines and tails need none), a page of at most `stay_page` stays at a time, so that a
        step that goes through every stay holds one page, not the history. Those not held are
        read from the read models; with `lines`, their statement lines from 1 January of the
        year of `first` on (all: None) are held while the event is applied: the event changes
        none before `first`, and a year's lines are written as one row (`_changes`), so its
        earlier months are needed whole. A page is read when it is asked for: the schedules
        and the horizon then must be those the rows were written with."""
        if self.read_stays is not None:
            after = ""
            while rows := self.read_stays(first, last, after, self.stay_page):
                page = self._stays_of_rows([(stay_id, text) for stay_id, text in rows.items()
                                            if (stay_id,) not in self.stay_rows], first, last, lines)
                if page:
                    yield page
                if len(rows) < self.stay_page:
                    break
                after = next(reversed(rows))
        held = [(stay_id, text) for (stay_id,), text in self.stay_rows.items()]
        for start in range(0, len(held), self.stay_page):
            if page := self._stays_of_rows(held[start:start + self.stay_page], first, last, lines):
                yield page

    def _stays_of_rows(self, rows: list[tuple[str, str]], first: date | None, last: date | None, lines: bool
                       ) -> list[StayFacts]:
        """The stays of `rows` with a funded day in [first, last], their lines borrowed
        (`stay_pages`)."""
        stays = []
        for stay_id, text in rows:
            if stay_id in self._gone:
                continue
            stay = stay_of(stay_id, json.loads(text))
            stay = stay if stay.move_out is None else replace(stay, runoff_months=self.runoff_of(stay.move_out))
            if stay.touches(first or date.min, last or date.max):
                stays.append(stay)
        if not lines or self.read_stays is None:
            return stays
        since = None if first is None else date(first.year, 1, 1)
        for stay in stays:
            if (stay.stay_id,) in self.stay_rows:
                continue
            self._borrowed.add(stay.stay_id)
            if self.horizon is not None and stay.ever_sold:
                borrowed = self._line_values(stay, since=since)
                self.lines.update((key, canonical(value)) for key, value in borrowed.items())
                if borrowed:
                    self.line_keys.setdefault(stay.stay_id, set()).update(borrowed)
        return stays

    # Facilities --------------------------------------------------------------------------

    def _facility(self, stream: UUID, version: int) -> Facility | None:
        """The facility as its first `version` events left it (`_held_or_loaded`)."""
        return self._held_or_loaded(self.facilities, stream, version)[0]  # type: ignore[no-any-return]

    def _hold_facility(self, facility: Facility) -> None:
        """Hold the facility as the last used (the least recently used let go of beyond the
        limit, with a loader) and note its stream and its latest active frame year."""
        self.facilities[facility.id] = facility
        self.facilities.move_to_end(facility.id)
        while self.facility_limit is not None and len(self.facilities) > self.facility_limit:
            self.facilities.popitem(last=False)
        self.facility_streams.add(facility.id)
        years = [frame["year"] for frame in facility.frame_budgets if frame["active"]]
        if years:
            self.frame_years[facility.id] = max(years)
        else:
            self.frame_years.pop(facility.id, None)

    def _facility_event(self, event: Any) -> None:
        facility = event.mutate(self._facility(event.originator_id, event.originator_version - 1))
        self._hold_facility(facility)
        if type(event).__name__ == "FrameBudgetSet" or getattr(event, "retracted_event_id", None) is not None:
            self._move_horizon()  # a frame set or retracted
        code = facility.code
        if self.read_facts is not None and code not in self._fact_codes:
            self.facts.update(self.read_facts(code))
        self._fact_codes.add(code)
        self._set_fact(("facility", code, 0), {
            "name": facility.name, "kind": facility.kind, "area": facility.area,
            "registered_places": facility.registered_places,
            "capacity_changes": [[d.isoformat(), places] for d, places in facility.active_capacity_changes()],
        })
        for year in sorted({f["year"] for f in facility.frame_budgets}):
            self._set_fact(("frame", code, year), frame_fact(facility.frame_budget(year), year))
        for year in sorted({a["year"] for a in facility.accounts}):
            accounts = facility.accounts_for(year)
            self._set_fact(("accounts", code, year), None if accounts is None else {
                "actual_costs": str(accounts["actual_costs"]), "event_id": accounts["event_id"],
            })
        for year in sorted({b["year"] for b in facility.baselines}):
            baseline = facility.baseline(year)
            self._set_fact(("baseline", code, year), None if baseline is None else {
                "baseline_budget": str(baseline["baseline_budget"]), "phase_in_pct": str(baseline["phase_in_pct"]),
            })

    # Tariff schedules --------------------------------------------------------------------

    def _schedule_event(self, event: Any) -> None:
        year = self.schedule_years.get(event.originator_id) or event.year
        before = self.schedules.get(year)
        if self.horizon is None or year > self.horizon:
            # Nothing of the year is in the rows yet: raising the horizon with the schedule in
            # place computes its months once, at their rates. The run-off of the stays that end
            # in the year is the schedule's: their tails change even when the horizon stays.
            old = [s for page in self.stay_pages(date(year, 1, 1), date(year, 12, 31), lines=False) for s in page
                   if s.move_out is not None and s.move_out.year == year]
            schedule = event.mutate(before)
            self.schedules[year], self.schedule_years[event.originator_id] = schedule, year
            self._schedule_changed(self._ending_in(year))
            new = [replace(s, runoff_months=self.runoff_of(s.move_out)) for s in old]
            kept = set(old) & set(new)
            self._shift_tails([s for s in old if s not in kept], [s for s in new if s not in kept])
        else:
            schedule = self._reprice(event, year, before)
        self._move_horizon()
        current = schedule.current
        self._set_fact(("schedule", "", year), None if current is None else {
            "hourly_rate": str(current["hourly_rate"]), "runoff_months": current["runoff_months"],
        })
        self._set_fact(("rates", "", year), rates_fact(schedule))

    def _reprice(self, event: Any, year: int, before: TariffSchedule | None) -> TariffSchedule:
        """A schedule of a year in the rows prices its days and sets the run-off of the stays
        that end in it: only the stays that touch the year from the first day whose rate may
        change (`repriced`) are recomputed, at the old and then at the new rates, a page of
        stays at a time (each page read with the old schedule in place, as its rows were
        written)."""
        (first, levels), last = repriced(event, year, before), date(year, 12, 31)
        since_month = date(first.year, first.month, 1)
        earlier = None if before is None else deepcopy(before)  # `mutate` changes the aggregate itself
        self._price_with(year, earlier)
        schedule = event.mutate(before)
        delta: Delta = defaultdict(NetMonth)
        for page in self.stay_pages(first, last):
            old = [s for s in page if levels is None or s.has_level_between(levels, first, last)]
            since = {s.stay_id: since_month for s in old}
            self._months_of_stays(old, -1, delta, since=since)  # at the old rates
            self._price_with(year, schedule)
            new = [s if s.move_out is None else replace(s, runoff_months=self.runoff_of(s.move_out)) for s in old]
            self._months_of_stays(new, 1, delta, since=since)
            self._reline(new, {s.stay_id for s in old}, since)
            kept = set(old) & set(new)  # a publication sets the run-off of the stays that end in its year
            self._shift_tails([s for s in old if s not in kept], [s for s in new if s not in kept])
            self._price_with(year, earlier)
        self._price_with(year, schedule)
        self.schedule_years[event.originator_id] = year
        # Only a publication sets the run-off (of the stays that end in its year, all touched).
        self._schedule_changed([] if levels is not None else self._ending_in(year))
        self._apply(delta)
        return schedule

    def _price_with(self, year: int, schedule: TariffSchedule | None) -> None:
        """Take `schedule` as the year's (None: none), its rates and revision days with it."""
        if schedule is None:
            self.schedules.pop(year, None)
        else:
            self.schedules[year] = schedule
        self._rates, self._revisions = {}, None

    def _ending_in(self, year: int) -> list[UUID]:
        """The held citizens with a stay that moves out in `year`."""
        return [cid for cid, stays in self._stays.items()
                if any(s.move_out is not None and s.move_out.year == year for s in stays)]

    def _schedule_changed(self, citizens: list[UUID]) -> None:
        """After a schedule changed: drop the rates and revision days, and the stays of
        `citizens`, whose run-off may differ now (a stay's run-off is the schedule's of its
        move-out year, so only stays that end in the schedule's year can change)."""
        self._rates, self._revisions = {}, None
        for citizen_id in citizens:
            self._stays.pop(citizen_id, None)

    def rate_of(self, level: int, day: date) -> Decimal | None:
        key = (level, day)
        if key not in self._rates:
            schedule = self.schedules.get(day.year)
            self._rates[key] = schedule.rate_on(level, day) if schedule is not None and schedule.is_published \
                else None
        return self._rates[key]

    def revision_days(self) -> frozenset[date]:
        if self._revisions is None:
            self._revisions = frozenset(r["effective_date"] for s in self.schedules.values()
                                        for r in s.active_revisions())
        return self._revisions

    # Horizon -----------------------------------------------------------------------------

    def configured(self) -> int | None:
        """The latest year of a published schedule or a set frame budget (None: none)."""
        years = [year for year, schedule in self.schedules.items() if schedule.is_published]
        years += self.frame_years.values()
        return max(years, default=None)

    def _move_horizon(self) -> None:
        """Keep month rows up to the latest configured year, within the cap: raise the
        horizon to it, or lower it when what reached the latest year was retracted."""
        configured = self.configured()
        target = None if configured is None or self.cap is None else min(configured, self.cap)
        if target == self.horizon:
            return
        if target is not None and (self.horizon is None or target > self.horizon):
            self._raise_horizon(target)
        else:
            self._lower_horizon(target)

    def _lower_horizon(self, year: int | None) -> None:
        """Keep month rows up to `year` only (None: none): drop the rows of the later years,
        which are read from the stay rows and the facts from now on."""
        dropped = None if year is None else date(year + 1, 1, 1)
        revisions = self.revision_days()
        for page in self.stay_pages(dropped):  # their lines beyond it borrowed, to drop
            for stay in page:  # what they posted to the years beyond it, taken back
                self._months_of(stay, revisions, dropped, sign=-1)
        earlier, self.horizon = self.horizon, year
        last = -1 if year is None else year
        if self.read_years is not None and earlier is not None:
            for later in range(last + 1, earlier + 1):  # every row of the years let go of
                for key, months in self.read_years(None, later).items():
                    if key not in self._years:
                        self._take_year(key, months)
        for key in [key for key in self.months if key[1] > last]:
            self._before.setdefault(("month", key), self.months.pop(key))
        for stay_id in list(self.line_keys):
            keys = self.line_keys[stay_id]
            for key in [key for key in keys if key[1] > last]:
                self._set_row("line", key, None)
                keys.discard(key)
            if not keys:
                del self.line_keys[stay_id]
        self._set_fact(("horizon", "", 0), None if year is None else {"year": year})

    def _raise_horizon(self, year: int) -> None:
        """Keep the months up to `year`: add what every stay adds to the years now in reach, a
        page of stays at a time (each page read at the earlier horizon: no line beyond it yet)."""
        if self.horizon is not None and year <= self.horizon:
            return
        earlier = self.horizon
        since = None if earlier is None else date(earlier + 1, 1, 1)
        added: Delta = defaultdict(NetMonth)
        for page in self.stay_pages(since):
            self.horizon = year
            revisions = self.revision_days()
            for stay in page:
                for (y, m), figures in self._months_of(stay, revisions, since, sign=1).items():
                    added[(stay.facility, y, m)].add(figures, 1)
            self._reline(page, set(), None if since is None else {s.stay_id: since for s in page})
            self.horizon = earlier
        self.horizon = year
        self._apply(added)
        self._set_fact(("horizon", "", 0), {"year": year})

    # Open tails --------------------------------------------------------------------------

    def _tail_day(self) -> date | None:
        """The horizon's last day: the tails hold the funded days after it (all: no horizon)."""
        return None if self.horizon is None else date(self.horizon, 12, 31)

    def _shift_tails(self, old: list[StayFacts], new: list[StayFacts]) -> None:
        """Take the `old` stays' pieces from their facilities' tails and add the `new` ones'."""
        after = self._tail_day()
        for stays, sign in ((old, -1), (new, 1)):
            for stay in stays:
                for piece, hours in stay_tail(stay, after):
                    key = (stay.facility, *piece.columns())
                    citizens, total = self.tails.get(key, (0, ZERO))
                    self._set_tail(key, (citizens + sign, total + sign * hours))

    def _retail(self) -> None:
        """The horizon moved: every facility's tail from every stay, after its new last day."""
        before, self.tails = self.tails, {}
        self._tail_horizon = self.horizon
        after = self._tail_day()
        for page in self.stay_pages(None if after is None else after + timedelta(days=1), lines=False):
            for stay in page:
                for piece, hours in stay_tail(stay, after):
                    key = (stay.facility, *piece.columns())
                    citizens, total = self.tails.get(key, (0, ZERO))
                    self.tails[key] = (citizens + 1, total + hours)
        for key in before.keys() | self.tails.keys():
            if before.get(key) != self.tails.get(key):
                self._before.setdefault(("tail", key), before.get(key))

    def _set_tail(self, key: TailKey, value: Group) -> None:
        self._before.setdefault(("tail", key), self.tails.get(key))
        if value[0] == 0 and not value[1]:
            self.tails.pop(key, None)
        else:
            self.tails[key] = value

    def tail_checkpoint(self, position: int) -> list[Change]:
        """Every facility's tail groups as they are now, labelled with `position` (the state
        holds every event up to it): rows of the `checkpoint` table."""
        return [Change("checkpoint", (position, *key), value, False) for key, value in sorted(self.tails.items())]

    # Rows --------------------------------------------------------------------------------

    def _months_of(self, stay: StayFacts, revisions: Iterable[date], since: date | None = None, sign: int = 0
                   ) -> dict[Month, StayMonth]:
        """What the stay adds to each month up to the horizon (from `since` when given); with a
        `sign`, its present days are posted with it (+1: added, -1: taken away)."""
        if self.horizon is None:
            return {}
        segments = stay_segments(stay, self.rate_of, revisions, until=date(self.horizon, 12, 31), since=since)
        if sign:
            for group, days in day_groups(segments).items():
                self._posted[(stay.facility, *group)] += sign * days
        return months_of_segments(segments)

    def _shift(self, old: list[StayFacts], new: list[StayFacts], since: dict[str, date] | None = None) -> None:
        """Take away what the `old` stays added and add what the `new` ones add (with the
        same rates and horizon: only the stays differ), from `since` per stay when given."""
        self._apply(self._months_of_stays(new, 1, self._months_of_stays(old, -1, since=since), since))

    def _months_of_stays(self, stays: list[StayFacts], sign: int, delta: Delta | None = None,
                         since: dict[str, date] | None = None) -> Delta:
        """What the stays add to each facility-month now, signed, added to `delta`."""
        delta = defaultdict(NetMonth) if delta is None else delta
        revisions = self.revision_days()
        for stay in stays:
            for (y, m), figures in self._months_of(stay, revisions, (since or {}).get(stay.stay_id), sign).items():
                delta[(stay.facility, y, m)].add(figures, sign)
        return delta

    def _apply(self, delta: Delta) -> None:
        """Add each facility-month's signed stay figures to its row; a month whose figures
        cancel out (the same taken away and added back) is left as it was."""
        for key in sorted(delta):
            net = delta[key].result()
            if net is None:
                continue
            self._hold_year(*key[:2])
            current = self.months.get(key)
            value = (current or BudgetMonth()).add(net)
            self._before.setdefault(("month", key), current)
            if value.is_empty:
                self.months.pop(key, None)
            else:
                self.months[key] = value

    def _reline(self, stays: list[StayFacts], gone: set[str], since: dict[str, date] | None = None) -> None:
        """Write the statement lines of `stays` anew (from `since` per stay when given: the
        months before it are the same); drop what `gone` stays had."""
        if self.horizon is None:
            return
        revisions = self.revision_days()
        until = date(self.horizon, 12, 31)
        for stay_id in gone - {s.stay_id for s in stays}:
            for key in self.line_keys.pop(stay_id, set()):
                self._set_row("line", key, None)
        for stay in stays:
            earlier = self.line_keys.get(stay.stay_id, set())
            if not earlier and not stay.ever_sold:
                continue
            start = (since or {}).get(stay.stay_id)
            kept = {key for key in earlier if start is not None and (key[1], key[2]) < (start.year, start.month)}
            lines = self._line_values(stay, revisions, until, start)
            keys = kept | set(lines)
            for key in earlier - keys:
                self._set_row("line", key, None)
            for key, value in lines.items():
                self._set_row("line", key, value)
            if keys:
                self.line_keys[stay.stay_id] = keys
            else:
                self.line_keys.pop(stay.stay_id, None)

    def _line_values(self, stay: StayFacts, revisions: Iterable[date] | None = None, until: date | None = None,
                     since: date | None = None) -> dict[LineKey, dict[str, Any]]:
        """The statement lines of a stay (from `since` when given) as their rows' values."""
        lines = statement_lines(stay, self.rate_of, self.revision_days() if revisions is None else revisions,
                                until or date(self.horizon or stay.move_in.year, 12, 31), since=since)
        return {(payer, y, m, stay.stay_id): {"facility": stay.facility, "periods": [p.as_dict() for p in periods]}
                for (payer, y, m), periods in lines.items()}

    def _set_fact(self, key: FactKey, value: Any) -> None:
        self._set_row("fact", key, value)

    def _set_row(self, table: str, key: Any, value: Any) -> None:
        rows = self._table(table)
        text = None if value is None else canonical(value)
        if rows.get(key) == text:
            return
        self._before.setdefault((table, key), rows.get(key))
        if text is None:
            del rows[key]
            if table == "stay":
                self._gone.add(key[0])
        else:
            rows[key] = text


def repriced(event: Any, year: int, schedule: TariffSchedule | None) -> tuple[date, frozenset[int] | None]:
    """The first day whose rates or run-off a schedule event may change, and the levels whose
    rates it changes: a rate revision (or its retraction) from its effective date, its level
    only; a publication (or anything else) from 1 January, every level (None)."""
    revision = "TariffRateRevised"
    if public_type(event) == revision:
        return event.meta.effective_date, frozenset({event.level})
    retracted = getattr(event, "retracted_event_id", None)
    if retracted is not None and schedule is not None:
        entry = schedule.entries.get(retracted)
        if entry is not None and entry.type == revision:
            level = next(r["level"] for r in schedule.revisions if r["event_id"] == retracted)
            return entry.effective_date, frozenset({level})
    return date(year, 1, 1), None


def rates_fact(schedule: TariffSchedule) -> dict[str, Any] | None:
    """A year's service rates as their read-model row (None: the schedule is not published):
    each level's published rate and the revisions in force in recording order, so a read beyond
    the horizon prices a day as `TariffSchedule.rate_on` does (docs/adr/0040). A fact of its own
    beside the "schedule" fact (hourly rate, run-off): a rate revision changes this one only."""
    if not schedule.is_published:
        return None
    return {
        "levels": {str(level.level): str(level.daily_rate) for level in schedule.levels},
        "revisions": [[r["level"], r["effective_date"].isoformat(), str(r["daily_rate"])]
                      for r in schedule.active_revisions()],
    }


def frame_fact(frame: dict[str, Any] | None, year: int) -> dict[str, Any] | None:
    """A frame budget as its read-model row: lines, total and basistakst (domain §4.2)."""
    if frame is None:
        return None
    total = frame_total(frame["lines"])
    return {
        "event_id": frame["event_id"], "budgeted_places": frame["budgeted_places"],
        "planned_occupancy_pct": str(frame["planned_occupancy_pct"]),
        "lines": [{"category": line["category"], "amount": str(line["amount"])} for line in frame["lines"]],
        "total": str(total),
        "basistakst": str(basistakst(total, frame["budgeted_places"], frame["planned_occupancy_pct"], year)),
    }
