"""The CPR guard's early answers (domain/cpr.py, `looks_like_cpr`): ASCII text with fewer than
ten digits, or with fewer than ten once its UUIDs and instants are set aside, is answered
without being read further, and that answer is the one the whole reading gives (rule 4: a
candidate has exactly ten digits)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.cpr import _INSTANT, _UUID, _candidates, _chains, _has_birth_date, looks_like_cpr, normalise_digits


def read_whole(text: str) -> bool:
    """The guard's reading without the early answer."""
    normalised = _INSTANT.sub("#", _UUID.sub("#", normalise_digits(text)))
    return any(_has_birth_date(c) for groups in _chains(normalised) for c in _candidates(groups))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789 -./:_TZaA+,", max_size=40))
def test_the_early_answer_is_the_whole_readings_answer(text):
    assert looks_like_cpr(text) == read_whole(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_text_gets_the_whole_readings_answer(text):
    assert looks_like_cpr(text) == read_whole(text)


def test_nine_digits_are_answered_early_and_ten_are_read():
    assert not looks_like_cpr("BOR-010190-123") and not looks_like_cpr("import")
    assert looks_like_cpr("BOR-010190-1234")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(
    st.uuids().map(str),
    st.datetimes().map(lambda moment: moment.isoformat(timespec="microseconds")),
    st.text(alphabet="0123456789 -./:_TZaAbcdef", max_size=12),
), max_size=5).map("".join))
def test_text_with_uuids_and_instants_gets_the_whole_readings_answer(text):
    """Once its UUIDs and instants are set aside, text with fewer than ten digits left is
    answered early (an Idempotency-Key, an event id quoted in a reason)."""
    assert looks_like_cpr(text) == read_whole(text)
