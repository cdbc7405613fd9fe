"""Open tails (projections/tails.py) against `stay_months` and `day_groups`: a facility's groups
after the horizon's last day give, for every later year, the same months and the same priced
present days as adding up its stays."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from domain.citizen import Condition
from projections.budget import BudgetMonth, StayFacts, stay_months, stay_segments
from projections.regulation import day_groups
from projections.tails import TailPiece, add_tail, stay_tail, tail_day_groups, tail_groups, tail_months

PAYERS = ("707", "707", "751", "165", "101")
SPECIAL = ("S1", "S2")
FIRST = date(2024, 1, 1)


def rates(unpublished: frozenset[int], factor: int):  # type: ignore[no-untyped-def]
    """A level's rate on a day: none in the unpublished years; level 2 revised mid-2027."""
    def rate_of(level: int, day: date) -> Decimal | None:
        if day.year in unpublished:
            return None
        if level == 2 and date(2027, 6, 15) <= day <= date(2027, 12, 31):
            return Decimal("1300.00")
        return Decimal(500 * level + factor * (day.year - 2020)) + Decimal("0.25")
    return rate_of


condition = st.builds(
    lambda level, hours, special, rate, payer: Condition(
        None if special is not None else level, Decimal(hours) / 4, special,
        None if special is None else Decimal(rate) / 100, payer),
    st.one_of(st.none(), st.integers(1, 8)), st.integers(0, 90),
    st.one_of(st.none(), st.sampled_from(SPECIAL)), st.integers(1, 10_000_00), st.sampled_from(PAYERS))


@st.composite
def stays(draw, facility: str):  # type: ignore[no-untyped-def]
    move_in = FIRST + timedelta(days=draw(st.integers(0, 5 * 365)))
    length = draw(st.one_of(st.none(), st.integers(0, 6 * 365)))
    if draw(st.booleans()) and length is not None:  # a move-out in December
        year = move_in.year + draw(st.integers(0, 3))
        move_out = max(move_in, date(year, 12, draw(st.integers(1, 31))))
    else:
        move_out = None if length is None else move_in + timedelta(days=length)
    changes = sorted(set(draw(st.lists(st.integers(1, 6 * 365), max_size=5))))
    conditions = [(move_in, draw(condition))]
    for offset in changes:
        day = move_in + timedelta(days=offset)
        if move_out is None or day <= move_out:
            conditions.append((day, draw(condition)))
    return StayFacts("", move_in, move_out, tuple(conditions), draw(st.integers(0, 2)), facility,
                     str(draw(st.integers())))


@settings(max_examples=300, deadline=None)
@given(many=st.lists(stays("F1"), max_size=12), others=st.lists(stays("F2"), max_size=3),
       horizon=st.integers(2023, 2031), later=st.integers(1, 4),
       unpublished=st.frozensets(st.integers(2024, 2036)), factor=st.integers(1, 40),
       revisions=st.lists(st.dates(date(2024, 1, 2), date(2035, 12, 31)), max_size=3))
def test_tail_months_are_the_stays_months_added_up(many, others, horizon, later, unpublished, factor, revisions):
    rate_of = rates(unpublished, factor)
    changes = frozenset(revisions) | {date(2027, 6, 15), date(2028, 1, 1)}
    after = date(horizon, 12, 31)
    tails = tail_groups([*many, *others], after)
    units: dict = {}
    for year in range(horizon + 1, horizon + 1 + later):
        first, last = date(year, 1, 1), date(year, 12, 31)
        for code, stays_ in (("F1", many), ("F2", others)):
            expected: dict[int, BudgetMonth] = {}
            for stay in stays_:
                if stay.touches(first, last):
                    for (_, month), figures in stay_months(stay, rate_of, changes, until=last, since=first).items():
                        expected[month] = expected.get(month, BudgetMonth()).plus(figures)
            expected = {m: figures for m, figures in expected.items() if not figures.is_empty}
            assert tail_months(tails.get(code, {}), rate_of, changes, year, units) == expected, (code, year)
            days: Counter = Counter()
            for stay in stays_:
                days.update(day_groups(stay_segments(stay, rate_of, changes, until=last, since=first)))
            assert +tail_day_groups(tails.get(code, {}), rate_of, changes, year) == +days, (code, year)


@given(stay=stays("F1"), horizon=st.one_of(st.none(), st.integers(2023, 2031)))
def test_a_stay_taken_away_leaves_no_group_and_pieces_keep_their_columns(stay, horizon):
    after = None if horizon is None else date(horizon, 12, 31)
    groups: dict = {}
    add_tail(groups, stay_tail(stay, after))
    add_tail(groups, stay_tail(stay, after), -1)
    assert groups == {}
    for piece, _ in stay_tail(stay, after):
        assert TailPiece.of_columns(*piece.columns()) == piece
        assert after is None or piece.first > after


def test_open_stays_on_one_level_share_one_group():
    level3 = Condition(3, Decimal("4.50"), None, None, "707")
    stays_ = [StayFacts("", date(2020 + i, 3, 1), None, ((date(2020 + i, 3, 1), level3),), 1, "F1", str(i))
              for i in range(3)]
    tails = tail_groups(stays_, date(2026, 12, 31))
    assert tails == {"F1": {TailPiece(date(2027, 1, 1), None, "3", 3, None, "707", True): (3, Decimal("13.50"))}}
