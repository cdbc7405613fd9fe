"""Measurements for the read-side redesign of issue 19 (docs/adr/0038): the row versions each
design option would write for a real generated history, and the reads of those rows on both
stores. No production code uses this module.

    python -m bench.read_design resolve STORE_URL CORRECTIONS OUT   # the corrections as import lines
    python -m bench.read_design derive STORE_URL OUTDIR             # rows of options A and B, counts
    python -m bench.read_design load OUTDIR sqlite:////tmp/x.sqlite|postgresql://...#schema
    python -m bench.read_design reads OUTDIR STORE [--samples N] [--central N] [--seed N] [--options A,A2,B]

- `resolve` finds each correction's event (citizen, type, effective date) in the store, as
  bench/corrections.py does through the API, and writes the retraction and the right facts.
- `derive` reads every stored event in recording order, applies it with the domain's own
  `mutate` and, per citizen event, compares the citizen's stays before and after
  (`StayFacts`, as the projector builds them): option A writes a version of each rate segment
  that changed, option B the facility-month rows below the facility's frontier that changed,
  the frontier and the tail groups. Counts per event type, rows and memory figures go to
  OUTDIR/stats.json, the rows to OUTDIR/*.tsv (one version a line, recorded_to 0 while valid).
- `load` puts the rows into a store (tables prefixed `rd_`), with their indexes.
- `reads` checks the SQL month figures of a sample of facility-years against `stay_months`
  (to the øre), then times a facility-year and the central model at random positions.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

from domain.citizen import Citizen
from domain.facility import Facility
from domain.ledger import public_type
from domain.tariff_schedule import TariffSchedule
from domain.values import NORDDJURS
from projections.budget import BudgetMonth, StayFacts, level_key, stay_months

OPEN = date(9999, 12, 31).toordinal()
"""The last day of an open segment (and the recorded_to of a version still valid is NEVER)."""
NEVER = 2**62
FIRST = date(2000, 1, 1).toordinal()


def ordinal(day: date) -> int:
    return day.toordinal()


def mi(day: date) -> int:
    """Month index of a day: year × 12 + month - 1."""
    return day.year * 12 + day.month - 1


def month_first(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def month_last(index: int) -> date:
    return month_first(index + 1) - timedelta(days=1)


def oere(amount: Any) -> int:
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimals")
    return int(scaled)


def settings_of(url: str) -> Any:
    from service.settings import Settings

    url, _, schema = url.partition("#")
    return Settings(database_url=url, database_schema=schema or "public")


def events(url: str, page: int = 2000) -> Iterator[tuple[int, Any]]:
    """Every stored event, in recording order, with its position."""
    from service.ledger import BudgetLedger

    app = BudgetLedger(settings_of(url))
    try:
        start = 1
        while notifications := app.recorder.select_notifications(start=start, limit=page):
            for n in notifications:
                yield n.id, app.mapper.to_domain_event(n)
            start = notifications[-1].id + 1
    finally:
        app.close()


# Corrections --------------------------------------------------------------------------------


def resolve(url: str, corrections: Path, out: Path) -> int:
    wanted = [json.loads(line) for line in corrections.open(encoding="utf-8") if line.strip()]
    refs = {c["find"]["citizen_ref"] for c in wanted}
    citizens: dict[Any, Citizen] = {}
    others: set[Any] = set()
    for _, event in events(url):
        stream = event.originator_id
        if stream in others or not (isinstance(event, Citizen.Event) or stream in citizens):
            continue
        citizen = event.mutate(citizens.get(stream))
        if citizen.citizen_ref in refs:
            citizens[stream] = citizen
        else:
            others.add(stream)
    by_ref = {c.citizen_ref: c for c in citizens.values()}
    with out.open("w", encoding="utf-8") as handle:
        for correction in wanted:
            find = correction["find"]
            entries = by_ref[find["citizen_ref"]].entries.values()
            match = [e for e in entries if e.type == find["type"] and e.effective_date.isoformat() ==
                     find["effective_date"] and e.retracted_by is None]
            if not match:
                raise RuntimeError(f"no {find} to correct")
            lines = [{"command": "retraction", "event_id": match[0].event_id, "reason": correction["reason"]},
                     *correction["then"]]
            handle.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return len(wanted)


# Option A: rate segments per stay -------------------------------------------------------------


def segments(stay: StayFacts) -> set[tuple[Any, ...]]:
    """A stay's rate segments: one per condition while present (to the next condition or the
    move-out; the last one open while the stay is), and the run-off after a move-out at the
    condition of the move-out day. A row: (stay, facility, payer, sold, level, level key,
    special rate in øre, present, hours in hundredths, first day, last day)."""
    rows = set()
    conditions, out = stay.conditions, stay.move_out
    for i, (start, condition) in enumerate(conditions):
        first = stay.move_in if i == 0 else max(start, stay.move_in)
        last = conditions[i + 1][0] - timedelta(days=1) if i + 1 < len(conditions) else None
        if out is not None:
            if first > out:
                break
            last = out if last is None else min(last, out)
        if last is not None and last < first:
            continue
        rows.add(_segment(stay, condition, True, first, last))
    if out is not None and stay.funded_until is not None and stay.funded_until > out:
        rows.add(_segment(stay, stay.condition_on(out), False, out + timedelta(days=1), stay.funded_until))
    return rows


def _segment(stay: StayFacts, condition: Any, present: bool, first: date, last: date | None) -> tuple[Any, ...]:
    special = condition.special_tariff is not None
    rate = None if not special or condition.special_rate is None else oere(condition.special_rate)
    payer = condition.paying_municipality
    return (stay.stay_id, stay.facility, payer, int(payer != NORDDJURS), None if special else condition.level,
            level_key(condition), rate, int(present), oere(condition.hours_per_day), ordinal(first),
            OPEN if last is None else ordinal(last))


def rate_periods(schedules: dict[int, TariffSchedule]) -> set[tuple[int, int, int, int | None]]:
    """The rate of each level as (level, first day, last day, rate in øre or None): the days of
    every published year split at its revisions, the gaps (no schedule) at None, to OPEN."""
    rows = set()
    for level in range(1, 9):
        cursor = FIRST
        for year in sorted(schedules):
            schedule = schedules[year]
            if not schedule.is_published:
                continue
            jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
            if ordinal(jan1) > cursor:
                rows.add((level, cursor, ordinal(jan1) - 1, None))
            starts = sorted({jan1} | {r["effective_date"] for r in schedule.active_revisions()
                                      if r["level"] == level and jan1 < r["effective_date"] <= dec31})
            for i, start in enumerate(starts):
                end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else dec31
                rows.add((level, ordinal(start), ordinal(end), oere(schedule.rate_on(level, start))))
            cursor = ordinal(dec31) + 1
        rows.add((level, cursor, OPEN, None))
    return rows


# Option B: facility-month rows below a frontier, tail groups from it on ---------------------


def settle(stay: StayFacts) -> int:
    """The first month from which the stay stays the same to its end (whole months)."""
    days = [start for start, _ in stay.conditions] + [stay.move_in]
    if stay.move_out is not None:
        days.append(stay.move_out + timedelta(days=1))
    last = max(days)
    return mi(last) + (0 if last.day == 1 else 1)


def tail_group(stay: StayFacts, frontier: int) -> tuple[Any, ...] | None:
    """The tail group a settled stay counts in from the frontier month on, or None when it
    funds no day from there: (level, level key, special rate, sold, present, until day)."""
    first = month_first(frontier)
    if stay.move_out is None:
        condition, present, until = stay.conditions[-1][1], 1, OPEN
    else:
        if stay.funded_until is None or stay.funded_until < first:
            return None
        condition, present, until = stay.condition_on(stay.move_out), 0, ordinal(stay.funded_until)
        if stay.move_out >= first:
            raise AssertionError("a stay that moves out after the frontier is not settled")
    special = condition.special_tariff is not None
    rate = None if not special or condition.special_rate is None else oere(condition.special_rate)
    return (None if special else condition.level, level_key(condition), rate,
            int(condition.paying_municipality != NORDDJURS), present, until, oere(condition.hours_per_day))


def month_value(month: BudgetMonth) -> tuple[Any, ...]:
    return (oere(month.activity), month.present_days, month.funded_days, month.unpriced_days, month.sold_days,
            oere(month.sold_service), oere(month.present_service), oere(month.support_hours),
            json.dumps(dict(month.citizens_by_level), sort_keys=True, separators=(",", ":")))


class Versions:
    """Row versions of one table: the current value of every key, and every version written."""

    def __init__(self, name: str, directory: Path) -> None:
        self.name = name
        self.current: dict[Any, tuple[Any, int]] = {}
        self.rows: list[list[Any]] = []
        self.written = 0
        self.closed = 0

    def set(self, key: Any, value: Any, position: int) -> int:
        """Set a key's value from `position` on (None: no row); the number of versions written."""
        held = self.current.get(key)
        if held is not None and held[0] == value:
            return 0
        if held is not None:
            self.rows[held[1]][-1] = position
            self.closed += 1
            del self.current[key]
        if value is None:
            return 0
        self.rows.append([key, value, position, NEVER])
        self.current[key] = (value, len(self.rows) - 1)
        self.written += 1
        return 1

    def dump(self, path: Path, columns: Any) -> None:
        with path.open("w", encoding="utf-8") as handle:
            for key, value, recorded_from, recorded_to in self.rows:
                fields = [*columns(key, value), recorded_from, recorded_to]
                handle.write("\t".join("\\N" if f is None else str(f) for f in fields) + "\n")


class Derivation:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.citizens: dict[Any, Citizen] = {}
        self.facilities: dict[Any, Facility] = {}
        self.schedules: dict[int, TariffSchedule] = {}
        self.schedule_years: dict[Any, int] = {}
        self.stays: dict[Any, list[StayFacts]] = {}
        self.segments = Versions("segments", directory)  # key: segment tuple, value: True
        self.rates = Versions("rates", directory)
        self.months = Versions("months", directory)  # key (facility, month index): month_value
        self.frontier = Versions("frontier", directory)  # key facility: month index
        self.tail = Versions("tail", directory)  # key (facility, group): (count, hours)
        self.frontiers: dict[str, int] = {}
        self.month_sums: dict[tuple[str, int], BudgetMonth] = {}
        self.tail_sums: dict[str, Counter] = defaultdict(Counter)
        self.tail_hours: dict[str, Counter] = defaultdict(Counter)
        self.at_facility: dict[str, dict[str, StayFacts]] = defaultdict(dict)
        self._rates: dict[tuple[int, date], Any] = {}
        self._revisions: frozenset[date] | None = None
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.open_stays = 0
        self.peak_open_stays = 0
        self.peak_live_citizens = 0
        self.current_year = 0
        self.year_advances: list[tuple[int, int]] = []
        self.seconds: Counter = Counter()

    # the projector's rules of rates and run-off ---------------------------------------------------------

    def rate_of(self, level: int, day: date) -> Any:
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

    def stays_of(self, citizen: Citizen) -> list[StayFacts]:
        stays = []
        for stay in citizen.active_stays:
            runoff = 1
            if stay.move_out is not None:
                schedule = self.schedules.get(stay.move_out.year)
                if schedule is not None and schedule.is_published:
                    runoff = schedule.runoff_months
            stays.append(StayFacts(citizen.citizen_ref, stay.move_in, stay.move_out, tuple(stay.conditions()),
                                   runoff, stay.facility, stay.stay_id))
        return stays

    # events -----------------------------------------------------------------------------------------

    def apply(self, position: int, event: Any) -> None:
        stream = event.originator_id
        kind = public_type(event)
        before = (self.segments.written, self.months.written, self.frontier.written, self.tail.written,
                  self.rates.written, self.segments.closed)
        if stream in self.citizens or isinstance(event, Citizen.Event):
            if kind == "EntryRetracted":
                target = self.citizens[stream].entries[event.retracted_event_id].type
                kind = f"EntryRetracted({target})"
            self._citizen(position, event)
        elif stream in self.facilities or isinstance(event, Facility.Event):
            self.facilities[stream] = event.mutate(self.facilities.get(stream))
            kind = "facility: " + kind
        elif stream in self.schedule_years or isinstance(event, TariffSchedule.Event):
            self._schedule(position, event)
            kind = "schedule: " + kind
        after = (self.segments.written, self.months.written, self.frontier.written, self.tail.written,
                 self.rates.written, self.segments.closed)
        counts = self.counts[kind]
        counts["events"] += 1
        for name, b, a in zip(("a_segments", "b_months", "b_frontier", "b_tail", "rates", "a_closed"), before,
                              after):
            counts[name] += a - b

    def _citizen(self, position: int, event: Any) -> None:
        stream = event.originator_id
        began = time.perf_counter()
        citizen = event.mutate(self.citizens.get(stream))
        self.citizens[stream] = citizen
        old = self.stays.get(stream, [])
        new = self.stays_of(citizen)
        self.stays[stream] = new
        self.seconds["mutate_and_stays"] += time.perf_counter() - began
        self._changed(position, old, new)

    def _changed(self, position: int, old: list[StayFacts], new: list[StayFacts]) -> None:
        unchanged = set(old) & set(new)
        old = [s for s in old if s not in unchanged]
        new = [s for s in new if s not in unchanged]
        if not old and not new:
            return
        self.open_stays += sum(1 for s in new if s.move_out is None) - sum(1 for s in old if s.move_out is None)
        self.peak_open_stays = max(self.peak_open_stays, self.open_stays)
        began = time.perf_counter()
        gone = set().union(*(segments(s) for s in old)) if old else set()
        made = set().union(*(segments(s) for s in new)) if new else set()
        for row in gone - made:
            self.segments.set(row, None, position)
        for row in sorted(made - gone, key=repr):
            self.segments.set(row, True, position)
            year = date.fromordinal(row[9]).year
            if year > self.current_year:
                self.current_year = year
                self.year_advances.append((position, year))
        self.seconds["a_segments"] += time.perf_counter() - began
        began = time.perf_counter()
        for facility in sorted({s.facility for s in old} | {s.facility for s in new}):
            self._facility_b(position, facility, [s for s in old if s.facility == facility],
                             [s for s in new if s.facility == facility])
        self.seconds["b_rows"] += time.perf_counter() - began

    def _facility_b(self, position: int, facility: str, old: list[StayFacts], new: list[StayFacts]) -> None:
        stays = self.at_facility[facility]
        t_old = self.frontiers.get(facility)
        t_new = max([settle(s) for s in new] + ([t_old] if t_old is not None else []), default=t_old)
        if t_new is None:
            t_new = max(settle(s) for s in old)
        for stay in old:
            stays.pop(stay.stay_id, None)
        for stay in new:
            stays[stay.stay_id] = stay
        revisions = self.revision_days()
        delta: dict[int, list[tuple[Any, int]]] = defaultdict(list)
        if t_old is not None:
            # months below the old frontier: what the changed stays add now less what they added
            until = month_last(t_old - 1)
            olds, news = {s.stay_id: s for s in old}, {s.stay_id: s for s in new}
            for stay_id in sorted(set(olds) | set(news)):
                since = None
                if stay_id in olds and stay_id in news:
                    day = news[stay_id].first_difference(olds[stay_id])
                    since = date(day.year, day.month, 1)
                for stay, sign in ((olds.get(stay_id), -1), (news.get(stay_id), 1)):
                    if stay is None:
                        continue
                    for (y, m), figures in stay_months(stay, self.rate_of, revisions, until=until,
                                                       since=since).items():
                        delta[y * 12 + m - 1].append((figures, sign))
        low = t_old if t_old is not None else min(mi(s.move_in) for s in new + old)
        if t_new > low:
            # months from the old frontier to the new one: every stay of the facility
            first, until = month_first(low), month_last(t_new - 1)
            for stay in stays.values():
                if stay.touches(first, until):
                    for (y, m), figures in stay_months(stay, self.rate_of, revisions, until=until,
                                                       since=first).items():
                        delta[y * 12 + m - 1].append((figures, 1))
            for index in range(low, t_new):
                self.month_sums.pop((facility, index), None)  # computed afresh above
        for index in sorted(delta):
            net = BudgetMonth.net(delta[index])
            key = (facility, index)
            current = self.month_sums.get(key, BudgetMonth())
            value = current if net is None else current.add(net)
            self.month_sums[key] = value
            self.months.set(key, None if value.is_empty else month_value(value), position)
        # the frontier and the tail groups
        self.frontiers[facility] = t_new
        self.frontier.set(facility, t_new, position)
        groups, hours = Counter(), Counter()
        first = month_first(t_new)
        for stay_id, stay in list(stays.items()):
            group = tail_group(stay, t_new)
            if group is None:
                if stay.funded_until is not None and stay.funded_until < first:
                    del stays[stay_id]  # funds nothing from the frontier on
                continue
            groups[group[:-1]] += 1
            hours[group[:-1]] += group[-1]
        for key in set(self.tail_sums[facility]) | set(groups):
            value = (groups[key], hours[key]) if groups[key] else None
            self.tail.set((facility, key), value, position)
        self.tail_sums[facility], self.tail_hours[facility] = groups, hours

    def _schedule(self, position: int, event: Any) -> None:
        year = self.schedule_years.get(event.originator_id) or event.year
        self.schedules[year] = event.mutate(self.schedules.get(year))
        self.schedule_years[event.originator_id] = year
        self._rates, self._revisions = {}, None
        made = rate_periods(self.schedules)
        for row in {k for k in self.rates.current} - made:
            self.rates.set(row, None, position)
        for row in sorted(made, key=repr):
            self.rates.set(row, True, position)
        # B: months below a frontier priced anew from the year's first day; the run-off of
        # stays that end in the year may change (A and B)
        first = date(year, 1, 1)
        revisions = self.revision_days()
        by_facility: dict[str, list[StayFacts]] = defaultdict(list)
        for stays_ in self.stays.values():
            for stay_ in stays_:
                by_facility[stay_.facility].append(stay_)
        for facility, t in self.frontiers.items():
            if t <= mi(first):
                continue
            until = month_last(t - 1)
            sums: dict[int, BudgetMonth] = {}
            for stay in by_facility[facility]:
                if stay.touches(first, until):
                    for (y, m), figures in stay_months(stay, self.rate_of, revisions, until=until,
                                                       since=first).items():
                        index = y * 12 + m - 1
                        sums[index] = sums.get(index, BudgetMonth()).plus(figures)
            for index in range(mi(first), t):
                value = sums.get(index, BudgetMonth())
                self.month_sums[(facility, index)] = value
                self.months.set((facility, index), None if value.is_empty else month_value(value), position)
        for cid, stays in list(self.stays.items()):
            if any(s.move_out is not None and s.move_out.year == year for s in stays):
                new = self.stays_of(self.citizens[cid])
                if new != stays:
                    self.stays[cid] = new
                    self._changed(position, stays, new)

    # output -----------------------------------------------------------------------------------------

    def dump(self) -> None:
        d = self.directory
        self.segments.dump(d / "a_segments.tsv", lambda key, value: key)
        self.rates.dump(d / "rates.tsv", lambda key, value: key)
        self.months.dump(d / "b_months.tsv", lambda key, value: (key[0], key[1] // 12, key[1] % 12 + 1, *value))
        self.frontier.dump(d / "b_frontier.tsv", lambda key, value: (key, ordinal(month_first(value))))
        self.tail.dump(d / "b_tail.tsv", lambda key, value: (key[0], *key[1], *value))
        (d / "year_advances.json").write_text(json.dumps(self.year_advances))


def deep_size(obj: Any, seen: set[int] | None = None) -> int:
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, type):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(deep_size(x, seen) for x in obj)
    elif hasattr(obj, "__dict__"):
        size += deep_size(vars(obj), seen)
    elif hasattr(obj, "__slots__"):
        size += sum(deep_size(getattr(obj, s), seen) for s in obj.__slots__ if hasattr(obj, s))
    return size


def store_positions(url: str) -> int:
    from service.ledger import BudgetLedger

    app = BudgetLedger(settings_of(url))
    try:
        return int(app.recorder.max_notification_id() or 0)
    finally:
        app.close()


def expected(state: Derivation, position: int, rng: random.Random, samples: int = 40) -> list[dict[str, Any]]:
    """Facility-years as `stay_months` has them at `position` (the stays as the events left
    them), for the reads to be checked against: months with figures, in the rows' encoding."""
    by_facility: dict[str, list[StayFacts]] = defaultdict(list)
    for stays in state.stays.values():
        for stay in stays:
            by_facility[stay.facility].append(stay)
    facilities = sorted(by_facility)
    revisions = state.revision_days()
    years = sorted({s.move_in.year for f in facilities for s in by_facility[f]})
    checks = []
    for _ in range(samples):
        facility = rng.choice(facilities)
        year = rng.choice(years + [years[-1] + 1])
        sums: dict[int, BudgetMonth] = {}
        first, last = date(year, 1, 1), date(year, 12, 31)
        for stay in by_facility[facility]:
            if stay.touches(first, last):
                for (y, m), figures in stay_months(stay, state.rate_of, revisions, until=last).items():
                    if y == year:
                        sums[m] = sums.get(m, BudgetMonth()).plus(figures)
        checks.append({"position": position, "facility": facility, "year": year,
                       "months": {m: month_value(v) for m, v in sorted(sums.items()) if not v.is_empty}})
    return checks


def derive(url: str, directory: Path) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    state = Derivation(directory)
    began = time.perf_counter()
    count = 0
    last = 0
    checks: list[dict[str, Any]] = []
    middle = store_positions(url) // 2
    decoding = time.perf_counter()
    for position, event in events(url):
        state.seconds["read_and_decode"] += time.perf_counter() - decoding
        state.apply(position, event)
        count, last = count + 1, position
        if position == middle:
            checks = expected(state, position, random.Random(2))
        decoding = time.perf_counter()
        if count % 100_000 == 0:
            print(f"{count} events, {time.perf_counter() - began:.0f} s, segments {state.segments.written}, "
                  f"months {state.months.written}, tail {state.tail.written}", flush=True)
    seconds = time.perf_counter() - began
    # what a projector would hold: every citizen's aggregate (today), only those with a stay
    # that still funds a day after the last event's month, or only those stays' facts
    live_day = max((s.move_in for stays in state.stays.values() for s in stays), default=date(2000, 1, 1))
    live = [cid for cid, stays in state.stays.items()
            if any(s.funded_until is None or s.funded_until >= live_day.replace(day=1) for s in stays)]
    rng = random.Random(1)
    sample = rng.sample(list(state.citizens), min(2000, len(state.citizens)))
    citizen_bytes = sum(deep_size(state.citizens[c]) for c in sample) / len(sample)
    live_sample = rng.sample(live, min(2000, len(live)))
    live_citizen_bytes = sum(deep_size(state.citizens[c]) for c in live_sample) / len(live_sample)
    live_stays = [s for c in live for s in state.stays[c]]
    stay_bytes = sum(deep_size(s) for s in live_stays[:2000]) / min(2000, len(live_stays))
    segs_per_live_stay = sum(len(segments(s)) for s in live_stays) / len(live_stays)
    stats = {
        "store": url, "events": count, "last_position": last, "seconds": round(seconds, 1),
        "by_event_type": {k: dict(v) for k, v in sorted(state.counts.items())},
        "rows": {"a_segments": len(state.segments.rows), "a_segments_valid_at_end": len(state.segments.current),
                 "rates": len(state.rates.rows), "b_months": len(state.months.rows),
                 "b_months_valid_at_end": len(state.months.current), "b_frontier": len(state.frontier.rows),
                 "b_tail": len(state.tail.rows), "b_tail_valid_at_end": len(state.tail.current)},
        "memory": {"citizens": len(state.citizens), "live_citizens": len(live), "live_stays": len(live_stays),
                   "peak_open_stays": state.peak_open_stays,
                   "citizen_aggregate_bytes_mean": round(citizen_bytes),
                   "live_citizen_aggregate_bytes_mean": round(live_citizen_bytes),
                   "stay_facts_bytes_mean": round(stay_bytes),
                   "segments_per_live_stay": round(segs_per_live_stay, 2),
                   "all_citizens_mib": round(len(state.citizens) * citizen_bytes / 2**20),
                   "live_citizens_mib": round(len(live) * live_citizen_bytes / 2**20),
                   "live_stay_facts_mib": round(len(live_stays) * stay_bytes / 2**20)},
        "current_year": state.current_year,
        "cpu_microseconds_per_event": {k: round(v / count * 1e6, 1) for k, v in state.seconds.items()},
    }
    state.dump()
    (directory / "stats.json").write_text(json.dumps(stats, indent=1))
    (directory / "expected.json").write_text(json.dumps(checks + expected(state, last, rng), indent=0))
    return stats


def main(argv: list[str]) -> None:  # pragma: no cover - the command lines of the module docstring
    command, *args = argv
    if command == "resolve":
        print(resolve(args[0], Path(args[1]), Path(args[2])), "corrections")
    elif command == "derive":
        print(json.dumps(derive(args[0], Path(args[1])), indent=1))
    elif command == "load":
        from bench.read_design_sql import load

        load(Path(args[0]), args[1])
    elif command == "reads":
        from bench.read_design_sql import reads

        samples = int(args[args.index("--samples") + 1]) if "--samples" in args else 200
        central = int(args[args.index("--central") + 1]) if "--central" in args else 20
        options = tuple(args[args.index("--options") + 1].split(",")) if "--options" in args else ("A", "A2", "B")
        seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
        reads(Path(args[0]), args[1], samples, central, seed, options=options)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
