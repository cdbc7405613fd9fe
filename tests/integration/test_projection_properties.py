"""Properties of the budget projection on both stores, over random histories:

- explaining a figure between two random points a < b lists exactly the positions in (a, b]
  at which the reference's figure moved, each with the amount it moved it by, and the deltas
  sum to the change (also for a year beyond the horizon);
- a projection followed event by event, holding two of the three citizens in memory (the others read from
  the store as their events come), equals a rebuild holding them all, row for row, byte for
  byte;
- the read models at any position equal the figures computed from the aggregates (the
  reference, tests/reference.py) at that position;
- a read as of a position never changes after later events;
- statement lines in the read models equal those computed from the aggregates, also for the
  years after the latest year a schedule or frame reaches (beyond the horizon), and for a far
  year with a schedule or a frame of its own (priced and funded beyond the horizon);

The random histories stage the edge cases the read side must hold (`run`): move-outs in
December (run-off into the next year) and dated more than a year ahead, schedules published
after the move-outs of their year with run-off 0 or 2, payer changes mid-month, special
tariffs (S1, S2) ended by a later level, and a schedule or frame for a far year (FAR) published
and retracted, and the 2027 schedule retracted: the horizon rises and is lowered
(docs/adr/0040).
- a citizen read from the read models (its stays from the stay rows, its events from the
  store) equals the citizen aggregate at that position;
- the what-if's charged revenue equals the revenue of the year rows, and its facilities and
  paying municipalities add up to the same.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings as hypothesis_settings, strategies as st
from sqlalchemy import select

from domain.errors import DomainError, NotFound
from service.db import migrate, rm_day_postings, rm_facility_years, rm_facts, rm_statement_lines, rm_stays
from service.db import rm_tail_checkpoints, rm_tails
from service.explain import Explainer, figure as explained_figure
from service.ledger import Actor, BudgetLedger, Timeline
from service.projection import Projector
from service.read_models import BudgetReads, StatementReads, citizen_at
from service.regulation import what_if
from projections.regulation import revenue
from projections.stays import StayRecord
from tests.conftest import make_settings
from tests.reference import ReferenceReader, reference_day_groups, reference_facility_year, reference_statement_lines
from tests.factories import frame_body, levels, SPECIAL_TARIFFS
from service.commands.declarations import (
    ChangeCapacity,
    ChangePayingMunicipality,
    GrantSpecialTariff,
    MoveIn,
    MoveOut,
    PublishSchedule,
    Reassess,
    RegisterFacility,
    Retract,
    ReviseRate,
    SetBaseline,
    SetFrameBudget,
)

FINANCE, CASEWORKER = Actor("finance-tester", "finance"), Actor("caseworker-tester", "caseworker")
ADMIN = Actor("admin-tester", "admin")
"""Retracts any kind of event, as the random histories do."""
FACILITIES = ("F1", "F2")
CITIZENS = ("A", "B", "C")
YEARS = (2026, 2027, 2028)
HOURS = ("1.5", "3", "4.5", "6.5", "8.25", "13", "17.5", "19")
START = date(2026, 1, 1)
BEYOND = 2029
"""A year no frame budget reaches, and a schedule only when one is published late: mostly
beyond the projection's horizon, with the days of move-outs dated far ahead."""

FAR_YEARS = (2028, 2029, 2029, 2030, 2099)
"""Years of move-outs dated more than a year after their recording (2099: the last year the
ledger takes, whose December run-off would reach past it)."""
LATE_YEARS = range(2026, 2030)
"""Years a schedule may be published for after the move-outs it prices."""
FAR = 2099
"""A year far beyond the year after the recording (the horizon's cap): a schedule or frame for
it may be published (`far`), but no month row of it is kept (docs/adr/0040)."""

CHECKPOINT_EVERY = 4
"""Positions between the tails' checkpoints: a few in every history (docs/adr/0042)."""

EDGE_CASES = ("move_out_december", "move_out_far", "payer_mid", "special_ends")
"""The kinds that stage an edge case within a stay (`run`)."""

operation = st.tuples(
    st.sampled_from(["move_in"] * 4 + ["reassess"] * 3 + ["special", "payer", "move_out", "move_out"]
                    + ["retract"] * 2 + ["revise", "publish", "frame", "capacity", "baseline", "publish_late", "far"]
                    + list(EDGE_CASES) * 2),
    st.integers(0, len(CITIZENS) - 1),
    st.integers(0, 540),
    st.integers(0, len(HOURS) - 1),
    st.booleans(),
    st.integers(0, 10_000),
)


def _latest_stay(ledger: BudgetLedger, ref: str):  # type: ignore[no-untyped-def]
    try:
        stays = ledger.citizen(ref).active_stays
    except DomainError:
        return None
    return stays[-1] if stays else None


def _move_out_years(ledger: BudgetLedger) -> list[int]:
    """The years of the move-outs recorded so far, each once, in order."""
    years = set()
    for ref in CITIZENS:
        try:
            years |= {s.move_out.year for s in ledger.citizen(ref).active_stays if s.move_out is not None}
        except DomainError:
            pass
    return sorted(years)


def run(ledger: BudgetLedger, op: tuple, recorded: list[str], refused: list[str] | None = None) -> None:
    """Try one random command (or a few, for the kinds that stage an edge case); one the
    domain refuses records nothing. Besides the plain commands at random days:

    - `move_out_december`: a move-out in December of the stay's first year or the next (its
      run-off reaches January of the next year);
    - `move_out_far`: a move-out dated more than a year after it is recorded (FAR_YEARS);
    - `publish_late`: the schedule of a year with move-outs published (again) after them, with
      run-off 0 or 2 months;
    - `payer_mid`: a payer change mid-month, sometimes changed back later in the same month;
    - `special_ends`: a special tariff (S1 or S2), sometimes the other one later, then a
      reassessment onto a level that ends it (on the same day or later);
    - `far`: (`flag`) the schedule of FAR or (else) a frame for FAR published, or (`pick` % 4
      == 0) retracted, or (== 1) the 2027 schedule's publication in force retracted: the
      horizon rises and is lowered.
    """
    kind, who, offset, hours, flag, pick = op
    ref, day = CITIZENS[who], START + timedelta(days=offset)
    facility = FACILITIES[pick % 2]
    special = {"code": "S1" if flag else "S2", "daily_rate": f"{6000 + pick % 500}.00"}
    assessment = {"hours_per_day": HOURS[hours]}
    stay = None
    if kind in EDGE_CASES:  # the first citizen (from the drawn one on) with an open stay, else the drawn one moves in
        open_ref = next((r for r in CITIZENS[who:] + CITIZENS[:who] if (s := _latest_stay(ledger, r)) and s.is_open),
                        None)
        if open_ref is None:
            run(ledger, ("move_in", who, offset % 120, 2, flag, pick), recorded, refused)
        ref = open_ref or ref
    if kind in ("reassess", "special", "payer", "move_out", *EDGE_CASES):
        stay = _latest_stay(ledger, ref)  # mostly within the citizen's latest stay
        day = stay.move_in + timedelta(days=offset % 300) if stay is not None and pick % 5 else day

    def handle(command, actor: Actor) -> bool:  # type: ignore[no-untyped-def]
        try:
            result = ledger.handle(command, actor)
        except DomainError as error:
            if refused is not None:
                refused.append(f"{kind}: {error.rule}")
            return False
        recorded.extend(result.body["event_ids"])
        return True

    if kind == "move_in":
        handle(MoveIn(citizen_ref=ref, facility=facility, effective_date=day,
                      paying_municipality="751" if flag else "707", assessment=assessment,
                      special_tariff=special if HOURS[hours] in ("19",) else None, reason="test"), CASEWORKER)
    elif kind == "reassess":
        handle(Reassess(citizen_ref=ref, effective_date=day, assessment=assessment,
                        special_tariff=special if HOURS[hours] in ("19",) else None, reason="test"), CASEWORKER)
    elif kind == "special":
        handle(GrantSpecialTariff(citizen_ref=ref, effective_date=day, code=special["code"],
                                  daily_rate=special["daily_rate"], reason="test"), CASEWORKER)
    elif kind == "payer":
        handle(ChangePayingMunicipality(citizen_ref=ref, effective_date=day,
                                        paying_municipality="751" if flag else "707"), CASEWORKER)
    elif kind == "payer_mid":
        middle = day.replace(day=10 + offset % 11)
        day = middle if stay is None or middle >= stay.move_in else day
        payer = "751" if flag else "707"
        if handle(ChangePayingMunicipality(citizen_ref=ref, effective_date=day, paying_municipality=payer),
                  CASEWORKER) and pick % 3 == 0 and (back := day + timedelta(days=1 + pick % 9)).month == day.month:
            handle(ChangePayingMunicipality(citizen_ref=ref, effective_date=back,
                                            paying_municipality="707" if flag else "751"), CASEWORKER)
    elif kind == "special_ends":
        other = {"code": "S2" if flag else "S1", "daily_rate": f"{7000 + pick % 300}.00"}
        if handle(GrantSpecialTariff(citizen_ref=ref, effective_date=day, code=special["code"],
                                     daily_rate=special["daily_rate"], reason="test"), CASEWORKER):
            if pick % 2:
                handle(GrantSpecialTariff(citizen_ref=ref, effective_date=day + timedelta(days=pick % 20),
                                          code=other["code"], daily_rate=other["daily_rate"], reason="test"), CASEWORKER)
            level = {"hours_per_day": HOURS[hours] if HOURS[hours] != "19" else "8.25"}
            handle(Reassess(citizen_ref=ref, effective_date=day + timedelta(days=(pick // 2) % 45), assessment=level,
                            reason="test"), CASEWORKER)
    elif kind in ("move_out", "move_out_december", "move_out_far"):
        if kind == "move_out_december":
            year = (stay.move_in.year if stay is not None else START.year) + pick % 2
            day = date(year, 12, 1 + offset % 31)
        elif kind == "move_out_far":
            year = FAR_YEARS[(offset + pick) % len(FAR_YEARS)]
            day = date(year, 12, 31) if pick % 4 == 0 else date(year, 1 + offset % 12, 1 + offset % 28)
        handle(MoveOut(citizen_ref=ref, effective_date=day, kind="deceased" if flag else "moved"), CASEWORKER)
    elif kind == "far":
        choice = pick % 4
        if choice == 1 or (choice == 0 and flag):
            try:
                schedule = ledger.schedule(2027 if choice == 1 else FAR)
            except DomainError:  # none recorded
                schedule = None
            if schedule is not None and schedule.current is not None:
                handle(Retract(event_id=schedule.current["event_id"], reason="wrong year"), ADMIN)
        elif choice == 0:
            frames = [f for code in FACILITIES if (f := ledger.facility(code).frame_budget(FAR)) is not None]
            if frames:
                handle(Retract(event_id=frames[0]["event_id"], reason="wrong year"), ADMIN)
        elif flag:
            handle(PublishSchedule(year=FAR, levels=levels(factor=Decimal("1.5")), special_tariffs=SPECIAL_TARIFFS,
                                   hourly_rate="500.00", runoff_months=pick % 3), FINANCE)
        else:
            body = frame_body()
            body["lines"][0]["amount"] = f"{2000000 + pick}.00"
            handle(SetFrameBudget(code=facility, year=FAR, budgeted_places=8 + pick % 5, planned_occupancy_pct="95",
                                  lines=body["lines"], reason="b"), FINANCE)
    elif kind == "retract":
        if recorded:
            handle(Retract(event_id=recorded[pick % len(recorded)], reason="wrong"), ADMIN)
    elif kind == "revise":
        year = YEARS[pick % 2]
        handle(ReviseRate(year=year, level=1 + pick % 8, daily_rate=f"{500 + pick % 3000}.00",
                          effective_date=date(year, 1 + pick % 12, 15), reason="revision"), FINANCE)
    elif kind in ("publish", "publish_late"):
        if kind == "publish":
            year, runoff = YEARS[pick % 3], (pick // 3) % 3
        else:
            years = [y for y in _move_out_years(ledger) if y in LATE_YEARS] or [YEARS[pick % 3]]
            year, runoff = years[pick % len(years)], 0 if flag else 2
        factor = Decimal(1) + Decimal(pick % 7) / 100
        handle(PublishSchedule(year=year, levels=levels(factor=factor), special_tariffs=SPECIAL_TARIFFS,
                               hourly_rate="420.00", runoff_months=runoff), FINANCE)
    elif kind == "frame":
        body = frame_body()
        body["lines"][0]["amount"] = f"{1000000 + pick}.00"
        handle(SetFrameBudget(code=facility, year=YEARS[pick % 3], budgeted_places=8 + pick % 5,
                              planned_occupancy_pct="95", lines=body["lines"], reason="b"), FINANCE)
    elif kind == "capacity":
        handle(ChangeCapacity(code=facility, places=5 + pick % 10, effective_date=day, reason="more places"), FINANCE)
    else:
        handle(SetBaseline(code=facility, year=YEARS[pick % 2], baseline_budget=f"{3000000 + pick}.00",
                           phase_in_pct="50"), FINANCE)


def setup(ledger: BudgetLedger) -> list[str]:
    for code in FACILITIES:
        ledger.handle(RegisterFacility(code=code, name=f"Bo {code}", kind="botilbud", area="Grenaa", places=10,
                                       effective_date=START), FINANCE)
    ledger.handle(PublishSchedule(year=2026, levels=levels(), special_tariffs=SPECIAL_TARIFFS, hourly_rate="420.00",
                                  runoff_months=1), FINANCE)
    ledger.handle(PublishSchedule(year=2027, levels=levels(factor=Decimal("1.03")), special_tariffs=SPECIAL_TARIFFS,
                                  hourly_rate="432.60", runoff_months=1), FINANCE)
    return []


def dump(ledger: BudgetLedger) -> list[tuple]:
    with ledger.engine.connect() as connection:
        months = connection.execute(select(rm_facility_years).order_by(*rm_facility_years.primary_key.columns)).all()
        facts = connection.execute(select(rm_facts).order_by(*rm_facts.primary_key.columns)).all()
        facts += connection.execute(select(rm_statement_lines).order_by(*rm_statement_lines.primary_key.columns)).all()
        facts += connection.execute(select(rm_stays).order_by(*rm_stays.primary_key.columns)).all()
        facts += connection.execute(select(rm_tails).order_by(*rm_tails.primary_key.columns)).all()
        facts += connection.execute(select(rm_tail_checkpoints).order_by(*rm_tail_checkpoints.primary_key.columns)).all()
        facts += connection.execute(select(rm_day_postings).order_by(*rm_day_postings.primary_key.columns)).all()
    return [tuple(row) for row in months] + [tuple(row) for row in facts]


def figures(year_figures) -> tuple:  # type: ignore[no-untyped-def]
    return (year_figures.basistakst, year_figures.hourly_rate, tuple(year_figures.warnings),
            tuple((m.month, m.frame, m.capacity_days, m.stays) for m in year_figures.months))


def few_held(settings, packed: bool):  # type: ignore[no-untyped-def]
    """The settings with a projector that holds two of the three citizens, one facility and one
    facility-year, and goes through the stays one at a time: every other is read from the store
    and the read models. With two held, a citizen let go of has its stays let go of one time by
    itself and the next by going through every held citizen (`BudgetProjection.written`). With
    `packed`, a citizen let go of comes back unpickled (docs/adr/0055); without, from the store."""
    return settings.model_copy(update={"projector_citizens": 2, "projector_facilities": 1,
                                       "projector_facility_years": 1, "projector_stay_page": 1,
                                       "projector_packed_citizens_mib": 1 if packed else 0})


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                     phases=(Phase.explicit, Phase.reuse, Phase.generate))  # shrinking a store history takes minutes
@given(ops=st.lists(operation, min_size=5, max_size=35), checks=st.lists(st.integers(0, 10_000), max_size=4),
       packed=st.booleans())
@example(ops=[  # every edge case at least once a run: payer changes on 17 and 21 May, S1 then S2 then a level,
    ("move_in", 0, 100, 2, True, 0), ("payer_mid", 0, 40, 0, False, 3), ("special_ends", 0, 60, 3, True, 41),
    ("move_out_december", 0, 20, 0, False, 0),  # 21 December 2026
    ("publish_late", 0, 0, 0, False, 0),  # 2026 again with run-off 2: the run-off reaches February 2027
    ("move_in", 1, 5, 1, False, 1), ("move_out_far", 1, 0, 0, True, 4),  # 31 December 2099
    ("publish_late", 0, 0, 0, True, 0),  # 2026 again with run-off 0
], checks=[3, 10, 5, 21], packed=True)
@example(ops=[
    ("move_in", 2, 200, 7, True, 1),  # with S1 from the move-in
    ("special_ends", 2, 30, 2, False, 2),  # S2, then a level the next day
    ("move_out_far", 2, 100, 0, False, 1),  # 17 May 2029
    ("publish_late", 2, 0, 0, False, 0),  # 2029 with run-off 2: the horizon moves to 2029
    ("move_in", 0, 10, 3, False, 0), ("payer_mid", 0, 200, 0, True, 6),  # 751 from 12 July, 707 from 19 July
    ("move_out_december", 0, 30, 0, True, 1),  # 31 December 2027: run-off into 2028, not yet published
    ("publish", 0, 0, 0, False, 2),  # 2028 with run-off 0
], checks=[2, 7, 1, 30], packed=False)
@example(ops=[  # the horizon rises and is lowered
    ("move_in", 0, 100, 2, True, 0), ("far", 0, 0, 0, True, 2),  # FAR's schedule: the horizon stays at the cap
    ("far", 0, 0, 0, False, 3), ("move_out_far", 0, 7, 0, False, 2),  # F2's frame for FAR; 8 August 2099
    ("far", 0, 0, 0, True, 1),  # 2027's schedule retracted: FAR still reaches past the cap
    ("far", 0, 0, 0, True, 0), ("reassess", 0, 30, 3, False, 1),  # FAR's schedule retracted: its frame reaches
    ("far", 0, 0, 0, False, 0),  # the frame retracted: the horizon is lowered to 2026, 2027 is read beyond it
    ("special", 0, 400, 0, True, 9), ("publish", 0, 0, 0, False, 1),  # 2027 again: the horizon rises
    ("move_in", 1, 5, 1, False, 1),
], checks=[4, 9, 2, 13], packed=True)
@example(ops=[  # the horizon rises over three stays sold to another municipality, read a page at a time
    ("move_in", 0, 100, 2, True, 0), ("move_in", 1, 50, 3, True, 1), ("move_in", 2, 10, 1, True, 0),
    ("far", 0, 0, 0, True, 2), ("far", 0, 0, 0, False, 3), ("far", 0, 0, 0, True, 1),
    ("far", 0, 0, 0, True, 0), ("far", 0, 0, 0, False, 0),  # the horizon is lowered to 2026
    ("publish", 0, 0, 0, False, 1), ("reassess", 0, 30, 3, False, 1),  # 2027 again: the horizon rises
], checks=[1, 2, 6, 9], packed=False)
def test_projection_follows_rebuilds_and_reads_as_the_aggregates_do(store, ops, checks, packed):
    with tempfile.TemporaryDirectory() as directory:
        for settings in make_settings(store, Path(directory)):
            migrate(settings)
            ledger = BudgetLedger(settings)
            follower = Projector(few_held(settings, packed), batch_size=1, checkpoint_every=CHECKPOINT_EVERY)
            try:
                recorded = setup(ledger)
                follower.catch_up()
                first = Timeline(ledger.engine).max_position()
                reads, statements = BudgetReads(ledger), StatementReads(ledger)
                seen: dict[tuple[int, str, int], tuple] = {}
                restarts = {check % len(ops) for check in checks[2:]}
                for index, op in enumerate(ops):
                    run(ledger, op, recorded)
                    if index in restarts:  # a new projector picks up from the read models' rows
                        follower.close()
                        follower = Projector(few_held(settings, packed), batch_size=1, checkpoint_every=CHECKPOINT_EVERY)
                    follower.catch_up()
                    position = Timeline(ledger.engine).max_position()
                    seen[(position, "F1", 2026)] = figures(reads.facility_year("F1", 2026, position))
                followed = dump(ledger)
                last = Timeline(ledger.engine).max_position()

                rebuilder = Projector(settings, batch_size=500, checkpoint_every=CHECKPOINT_EVERY)
                rebuilder.rebuild()
                rebuilder.close()
                assert dump(ledger) == followed

                for (position, code, year), before in seen.items():
                    assert figures(reads.facility_year(code, year, position)) == before
                for check in checks[:2] if last > first else ():
                    code, month = FACILITIES[check % 2], (None, 1, 4, 12)[check % 4]
                    year = (*YEARS, BEYOND, FAR)[check % (len(YEARS) + 2)]
                    start = first + check % (last - first)
                    end = start + 1 + (check // 7) % (last - start)  # first <= start < end <= last
                    explainer = Explainer(ledger)
                    explained = explainer.explain(code, year, month, start, end)
                    # Brute force: every position at which the reference's figure moved, and by how much.
                    reference = [explained_figure(reference_facility_year(ledger, code, year, p), month)
                                 for p in range(start, end + 1)]
                    moved = [(start + i, after - before) for i, (before, after) in
                             enumerate(zip(reference, reference[1:]), 1) if after != before]
                    assert [(c["position"], c["delta"]) for c in explained["changes"]] == moved, (code, year, month)
                    assert sum((c["delta"] for c in explained["changes"]), Decimal(0)) == explained["delta"]
                    assert (explained["before"], explained["after"]) == (reference[0], reference[-1]) == (
                        explainer.figure_at(code, year, month, start), explainer.figure_at(code, year, month, end))
                for position in {last, *(first + c % (last - first + 1) for c in checks)}:
                    for code in FACILITIES:  # the ledger's index of move-ins against decoding every one
                        assert ledger.citizens_ever_at(code, position) == ledger.citizens_ever_at_by_scan(code, position)
                    for year in YEARS:  # the stay rows against the aggregates' stays
                        rows = reads.stays(position, year)
                        for code in FACILITIES:
                            touching = [replace(s, citizen_ref="") for s in ReferenceReader(ledger, position).stays_at(code)
                                        if s.touches(date(year, 1, 1), date(year, 12, 31))]  # rows name no citizen
                            assert sorted((s for s in rows.get(code, []) if s.touches(date(year, 1, 1), date(year, 12, 31))),
                                          key=lambda s: s.stay_id) == sorted(touching, key=lambda s: s.stay_id)
                    reference = ReferenceReader(ledger, position)
                    for ref in CITIZENS:  # a citizen's reads: the stay rows against the aggregate's stays
                        try:
                            citizen = reference.citizen(ref)
                        except NotFound:
                            with pytest.raises(NotFound):
                                citizen_at(ledger, ref, position)
                            continue
                        found = citizen_at(ledger, ref, position)
                        assert (found.citizen_ref, found.version) == (citizen.citizen_ref, citizen.version)
                        assert found.stays == tuple(StayRecord.of(s) for s in citizen.active_stays), (position, ref)
                        assert [e.meta.event_id for e in found.events] == \
                            [e.meta.event_id for e in ledger.events.get(citizen.id, lte=citizen.version)]
                    horizon = reads.horizon(position)
                    for year in {*YEARS, BEYOND, FAR}:  # a year's priced days: postings, or beyond the horizon tails
                        assert reads.day_groups(year, position) == reference_day_groups(
                            reference, list(FACILITIES), year), (position, year)
                        if horizon is None or year > horizon:
                            assert not reads.posted_day_groups(year, position), (position, year)
                    for year in YEARS:  # the what-if's charged revenue is the year rows' revenue
                        replay = what_if(ledger, year, position, {level: Decimal(level * 100) for level in range(1, 11)})
                        actual = {row["facility"]: row["actual"] for row in replay["facilities"]}
                        for code in FACILITIES:
                            totals = (found := reads.facility_year(code, year, position)).totals()
                            assert actual.get(code, Decimal(0)) == revenue(
                                totals.present_days, found.basistakst, totals.stays.present_service), (position, year)
                        for column in ("actual", "what_if"):  # every day is paid by someone
                            assert sum((r[column] for r in replay["facilities"]), Decimal(0)) == \
                                sum((r[column] for r in replay["paying_municipalities"]), Decimal(0))
                    horizon = reads.horizon(position) or START.year  # the latest year a schedule or frame reaches
                    for year in sorted({*YEARS, BEYOND, FAR, horizon + 1}):
                        every = reads.all_facility_years(year, position)  # beyond the horizon: tails by checkpoint
                        for code in FACILITIES:
                            expected = reference_facility_year(ledger, code, year, position)
                            assert figures(reads.facility_year(code, year, position)) == figures(expected), \
                                (position, code, year)
                            assert figures(every[code][1]) == figures(expected), (position, code, year)
                    for year, month in ((2026, 3 + position % 10), (2027, 1 + position % 12), (2028, 1),
                                        (horizon + 1, 1), (horizon + 1, 1 + position % 12),  # beyond the horizon
                                        (horizon + 2, 12 - position % 12), (BEYOND, 1 + position // 3 % 12),
                                        (FAR, 1 + position % 12)):
                        expected_lines = reference_statement_lines(ledger, "751", year, month, position)
                        assert sorted(statements.lines("751", year, month, position), key=str) == \
                            sorted(expected_lines, key=str), (position, year, month)
                    for year in YEARS:  # each facility as of its own point, in one read
                        points = {"F1": position, "F2": first + (position * 7) % (last - first + 1)}
                        together = reads.facility_years_at(year, points)
                        for code, point in points.items():
                            assert figures(together[code]) == figures(reads.facility_year(code, year, point))
            finally:
                follower.close()
                ledger.close()
