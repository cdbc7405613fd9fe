"""Citizens by level go into a month row as JSON and come back in `BudgetMonth`'s order."""

from service.projection import levels_json
from service.read_models import _levels


def test_levels_come_back_in_sorted_order_whatever_order_they_were_counted_in():
    counted = (("S2", 1), ("8", 3), ("1", 2), ("S1", 4), ("5", 1))
    assert _levels(levels_json(counted)) == tuple(sorted(counted))


def test_no_citizens_is_an_empty_tuple():
    assert _levels(levels_json(())) == ()
