"""The budget projection: follows the ledger's events one at a time, in recording order, and
says which read-model rows change at each position (docs/adr/0006).

It keeps the aggregates as the events left them (facilities, tariff schedules, citizens),
applying each event with the domain's own `mutate`, so every rule about what counts
(retractions, the latest effective then latest recorded, a special tariff until the next
level) is the domain's, never re-implemented here. Facilities and schedules are few and all
held; citizens are many, and an event needs only its own citizen's stays before and after it:
the projection holds the citizens it applied events to last (a bounded LRU), and a citizen it
does not hold is loaded from the store by its stream, at the version before the event
(`CitizenLoader`, injected by the service). What concerns every stay (a schedule repricing a
year, the horizon raised) is computed from the stay rows, not from the citizens
(docs/adr/0041). From them it keeps the current value of the read-model rows (with a stay
reader injected, the stay rows and statement lines of the held citizens' stays only: a
stay's rows are a function of its facts, the schedules and the horizon, so those of a
citizen loaded are computed again, and a schedule event reads the stays it reprices):

- `month` rows, per facility, year and month: what the stays add (activity, present and
  funded days, sold days, support hours, citizens by level at month end): the sum of the
  stays' `StayMonth`s, kept by adding what a changed stay adds now and taking away what it
  added before;
- `stay` rows: each stay's facts (move-in, conditions by date, move-out and its kind, the
  assessments in force), for the reads that compute a facility's stays as of a point
  (docs/adr/0014) and for a citizen's reads (docs/adr/0035);
- `fact` rows: a facility's name, places and capacity changes; a facility-year's frame
  budget (with basistakst) and baseline; a year's schedule (hourly rate, run-off); the
  horizon.

The horizon is the last year whose month rows are kept: the latest year of a published
schedule or a set frame budget (docs/adr/0014). An open stay is counted up to the horizon's last
day; reads of a later year are computed from the stay rows instead (no schedule or frame
reaches such a year; docs/adr/0014).

The same events in the same order always give the same changes, however they are batched:
that is what makes a rebuild equal to following.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Callable, Iterable
from uuid import UUID

from domain.citizen import Citizen
from domain.facility import Facility
from domain.ledger import LedgerAggregate, public_type
from domain.tariff_schedule import TariffSchedule
from projections.budget import BudgetMonth, Month, StayFacts, StayMonth, stay_months
from projections.frame import basistakst, frame_total
from projections.statements import statement_lines
from projections.stays import StayRecord, stay_of, stay_value

MonthKey = tuple[str, int, int]
"""(facility code, year, month)"""
FactKey = tuple[str, str, int]
"""(kind, facility code or "", year or 0)"""
LineKey = tuple[str, int, int, str]
"""(paying municipality, year, month, stay id)"""
StayKey = tuple[str]
"""(stay id,)"""
Delta = dict[MonthKey, list[tuple[StayMonth, int]]]
"""What stays add to (+1) or take from (-1) each facility-month."""
CitizenLoader = Callable[[UUID, int], Citizen]
"""The citizen of a stream as its first `version` events left it (version ≥ 1), from the store."""
StayReader = Callable[[date | None, date | None], dict[str, str]]
"""The stay rows the read models hold now (written), by stay id: at least those of the stays
with a funded day in [first, last] (None: unbounded), maybe more."""


@dataclass(frozen=True)
class Change:
    """From this event's position on, the row `key` of `table` holds `value` (None: no row)."""

    table: str
    key: MonthKey | FactKey | LineKey
    value: BudgetMonth | str | None
    replaces: bool
    """True when a row held the key before this change (it is closed at this position)."""


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class BudgetProjection:
    """In-memory state of the budget read models, advanced one event at a time."""

    def __init__(self, load_citizen: CitizenLoader | None = None, citizens: int = 4096,
                 read_stays: StayReader | None = None) -> None:
        """With `load_citizen`, at most `citizens` citizens are held (the last used), the others
        loaded again when an event of theirs comes; without it every citizen is held. With
        `read_stays` too, the stay rows and statement lines are held only for the stays of the
        citizens held and those changed since the rows were last written (`written`)."""
        self.facilities: dict[UUID, Facility] = {}
        self.schedules: dict[int, TariffSchedule] = {}
        self.schedule_years: dict[UUID, int] = {}
        self.citizens: OrderedDict[UUID, Citizen] = OrderedDict()
        """The citizens held, the least recently used first."""
        self.load_citizen = load_citizen
        self.citizen_limit = max(1, citizens) if load_citizen is not None else None
        self.read_stays = read_stays if load_citizen is not None else None
        self._gone: set[str] = set()
        """Stays whose rows were dropped since the rows were last written (the read models
        still hold them)."""
        self._borrowed: set[str] = set()
        """Stays not held whose statement lines the current event holds from the first
        month it may change (`stays_in_rows`): let go of when it is applied."""
        self.horizon: int | None = None
        self.months: dict[MonthKey, BudgetMonth] = {}
        self.facts: dict[FactKey, str] = {}
        self.lines: dict[LineKey, str] = {}
        """Statement lines: a stay's present days paid by another municipality, by month."""
        self.line_keys: dict[str, set[LineKey]] = {}
        self.stay_rows: dict[StayKey, str] = {}
        """Each stay's facts (`projections.stays`), by stay id: of every stay, or with
        `read_stays` of the stays held (their statement lines are held with them)."""
        self._before: dict[tuple[str, Any], Any] = {}
        """Rows the current event has changed, with their values before it."""
        self._stays: dict[UUID, list[StayFacts]] = {}
        """Each held citizen's stays as last computed (dropped when a schedule changes or the
        citizen is no longer held)."""
        self._rates: dict[tuple[int, date], Decimal | None] = {}
        self._revisions: frozenset[date] | None = None
        """Rates of a level on a day, and the days of rate revisions, as the schedules say
        now (dropped when a schedule changes)."""

    def apply(self, event: Any) -> list[Change]:
        """Apply one domain event; return the rows it changes, in a stable order."""
        self._before = {}
        stream = event.originator_id
        # A retraction's class is the shared LedgerAggregate.EntryRetracted: know it by its stream.
        # Every facility and schedule is held (each stream's first event creates it), so a
        # retraction in any other stream is a citizen's.
        if stream in self.facilities or isinstance(event, Facility.Event):
            self._facility_event(event)
        elif stream in self.schedule_years or isinstance(event, TariffSchedule.Event):
            self._schedule_event(event)
        elif isinstance(event, (Citizen.Event, LedgerAggregate.Event)):
            self._citizen_event(event)
        changes = self._changes()
        for stay_id in self._borrowed:
            for key in self.line_keys.pop(stay_id, ()):
                self.lines.pop(key, None)
        self._borrowed = set()
        return changes

    def replay(self, event: Any) -> None:
        """Apply one event to the aggregates only, computing no rows."""
        stream = event.originator_id
        if stream in self.facilities or isinstance(event, Facility.Event):
            self.facilities[stream] = event.mutate(self.facilities.get(stream))
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
            self.facilities[aggregate.id] = aggregate
        else:
            self.schedules[aggregate.year], self.schedule_years[aggregate.id] = aggregate, aggregate.year
            self._stays, self._rates, self._revisions = {}, {}, None

    def restore(self, months: dict[MonthKey, BudgetMonth], facts: dict[FactKey, str],
                lines: dict[LineKey, str], stays: dict[StayKey, str]) -> None:
        """Take the rows the read models hold at the position the facilities and schedules
        were taken at (`take`): the state is then the one `apply` would have reached."""
        self.months, self.facts, self.lines = dict(months), dict(facts), dict(lines)
        self.stay_rows = dict(stays)
        self.line_keys = {}
        for key in self.lines:
            self.line_keys.setdefault(key[3], set()).add(key)
        horizon = self.facts.get(("horizon", "", 0))
        self.horizon = None if horizon is None else json.loads(horizon)["year"]

    def _table(self, name: str) -> dict[Any, Any]:
        return {"month": self.months, "fact": self.facts, "line": self.lines, "stay": self.stay_rows}[name]

    def _changes(self) -> list[Change]:
        """One change per row the event left different (a row can change more than once
        within one event, e.g. when the horizon is raised and then the rates change)."""
        changes = []
        for table, key in sorted(self._before, key=lambda slot: (slot[0], slot[1])):
            before = self._before[(table, key)]
            after = self._table(table).get(key)
            if after != before:
                changes.append(Change(table, key, after, before is not None))
        return changes

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
        for stay_id in {s.stay_id for s in old} - {s.stay_id for s in new}:
            self._set_row("stay", (stay_id,), None)  # a move-in retracted: the stay never was
        # Every stay of the citizen, not only those whose facts changed: the move-out's kind
        # and the assessments in force can change while the conditions stay the same.
        records = {stay.stay_id: stay for stay in citizen.active_stays}
        for stay in self._stays[event.originator_id]:
            self._set_row("stay", (stay.stay_id,), stay_value(stay, StayRecord.of(records[stay.stay_id])))

    def _citizen(self, citizen_id: UUID, version: int) -> Citizen | None:
        """The citizen as its first `version` events left it: held, else from the store (None
        before its first event)."""
        citizen = self.citizens.get(citizen_id)
        if citizen is not None:
            self.citizens.move_to_end(citizen_id)
            return citizen
        if version < 1 or self.load_citizen is None:
            return None
        citizen = self.load_citizen(citizen_id, version)
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
        if self.read_stays is None:
            return
        held = {stay.stay_id for cid, citizen in self.citizens.items()
                for stay in self._stays_of_citizen(cid, citizen)}
        for key in [key for key in self.stay_rows if key[0] not in held]:
            del self.stay_rows[key]
        for stay_id in [stay_id for stay_id in self.line_keys if stay_id not in held]:
            for key in self.line_keys.pop(stay_id):
                self.lines.pop(key, None)
        self._gone = set()

    def _hold(self, citizen_id: UUID, citizen: Citizen) -> None:
        """Hold the citizen as the last used; let go of the least recently used beyond the limit."""
        self.citizens[citizen_id] = citizen
        self.citizens.move_to_end(citizen_id)
        while self.citizen_limit is not None and len(self.citizens) > self.citizen_limit:
            gone, _ = self.citizens.popitem(last=False)
            self._stays.pop(gone, None)

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

    def stays_in_rows(self, first: date | None = None, last: date | None = None) -> list[StayFacts]:
        """Every stay with a funded day in [first, last] (None: unbounded) as its row holds it,
        with the run-off the schedules set now (and no citizen reference: the months and
        statement lines need none). Those not held are read from the read models, and their
        statement lines from the month of `first` on are held while the event is applied
        (the event changes none before it)."""
        rows = {} if self.read_stays is None else self.read_stays(first, last)
        rows.update((stay_id, text) for (stay_id,), text in self.stay_rows.items())
        stays = []
        for stay_id, text in rows.items():
            if stay_id in self._gone:
                continue
            stay = stay_of(stay_id, json.loads(text))
            stay = stay if stay.move_out is None else replace(stay, runoff_months=self.runoff_of(stay.move_out))
            if stay.touches(first or date.min, last or date.max):
                stays.append(stay)
        for stay in stays:
            if self.read_stays is None or (stay.stay_id,) in self.stay_rows:
                continue
            self._borrowed.add(stay.stay_id)
            if first is not None and self.horizon is not None and stay.ever_sold:
                lines = self._line_values(stay, since=date(first.year, first.month, 1))
                self.lines.update((key, canonical(value)) for key, value in lines.items())
                if lines:
                    self.line_keys[stay.stay_id] = set(lines)
        return stays

    # Facilities --------------------------------------------------------------------------

    def _facility_event(self, event: Any) -> None:
        if type(event).__name__ == "FrameBudgetSet":
            self._raise_horizon(event.year)
        facility = event.mutate(self.facilities.get(event.originator_id))
        self.facilities[event.originator_id] = facility
        code = facility.code
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
            # place computes its months once, at their rates.
            schedule = event.mutate(before)
            self.schedules[year], self.schedule_years[event.originator_id] = schedule, year
            self._schedule_changed(self._ending_in(year))
            self._raise_horizon(year)
        else:
            schedule = self._reprice(event, year, before)
        current = schedule.current
        self._set_fact(("schedule", "", year), None if current is None else {
            "hourly_rate": str(current["hourly_rate"]), "runoff_months": current["runoff_months"],
        })

    def _reprice(self, event: Any, year: int, before: TariffSchedule | None) -> TariffSchedule:
        """A schedule of a year in the rows prices its days and sets the run-off of the stays
        that end in it: only the stays that touch the year from the first day whose rate may
        change (`repriced`) are recomputed, at the old and then at the new rates."""
        (first, levels), last = repriced(event, year, before), date(year, 12, 31)
        since_month = date(first.year, first.month, 1)
        old = [s for s in self.stays_in_rows(first, last)
               if levels is None or s.has_level_between(levels, first, last)]
        since = {s.stay_id: since_month for s in old}
        delta = self._months_of_stays(old, -1, since=since)  # at the old rates
        schedule = event.mutate(before)
        self.schedules[year], self.schedule_years[event.originator_id] = schedule, year
        # Only a publication sets the run-off (of the stays that end in its year, all touched).
        self._schedule_changed([] if levels is not None else self._ending_in(year))
        new = [s if s.move_out is None else replace(s, runoff_months=self.runoff_of(s.move_out)) for s in old]
        self._apply(self._months_of_stays(new, 1, delta, since=since))
        self._reline(new, {s.stay_id for s in old}, since)
        return schedule

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

    def _raise_horizon(self, year: int) -> None:
        """Keep month rows up to `year`: add what every stay adds to the years now in reach."""
        if self.horizon is not None and year <= self.horizon:
            return
        earlier = self.horizon
        since = None if earlier is None else date(earlier + 1, 1, 1)
        stays = self.stays_in_rows(since)  # before the horizon moves: no line beyond it yet
        self.horizon = year
        added: Delta = defaultdict(list)
        revisions = self.revision_days()
        for stay in stays:
            for (y, m), figures in self._months_of(stay, revisions, since).items():
                added[(stay.facility, y, m)].append((figures, 1))
        self._apply(added)
        self._reline(stays, set(), None if since is None else {s.stay_id: since for s in stays})
        self._set_fact(("horizon", "", 0), {"year": year})

    # Rows --------------------------------------------------------------------------------

    def _months_of(self, stay: StayFacts, revisions: Iterable[date], since: date | None = None
                   ) -> dict[Month, StayMonth]:
        if self.horizon is None:
            return {}
        return stay_months(stay, self.rate_of, revisions, until=date(self.horizon, 12, 31), since=since)

    def _shift(self, old: list[StayFacts], new: list[StayFacts], since: dict[str, date] | None = None) -> None:
        """Take away what the `old` stays added and add what the `new` ones add (with the
        same rates and horizon: only the stays differ), from `since` per stay when given."""
        self._apply(self._months_of_stays(new, 1, self._months_of_stays(old, -1, since=since), since))

    def _months_of_stays(self, stays: list[StayFacts], sign: int, delta: Delta | None = None,
                         since: dict[str, date] | None = None) -> Delta:
        """What the stays add to each facility-month now, signed, added to `delta`."""
        delta = defaultdict(list) if delta is None else delta
        revisions = self.revision_days()
        for stay in stays:
            for (y, m), figures in self._months_of(stay, revisions, (since or {}).get(stay.stay_id)).items():
                delta[(stay.facility, y, m)].append((figures, sign))
        return delta

    def _apply(self, delta: Delta) -> None:
        """Add each facility-month's signed stay figures to its row; a month whose figures
        cancel out (the same taken away and added back) is left as it was."""
        for key in sorted(delta):
            net = BudgetMonth.net(delta[key])
            if net is None:
                continue
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
