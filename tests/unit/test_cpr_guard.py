"""The one CPR guard (domain/cpr.py): every written form of a CPR number is refused, and
what is not one (a UUID, a date and time, a phone number, ten digits that hold no date)
passes."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from domain.cpr import check_no_cpr, looks_like_cpr, normalise_digits
from domain.errors import InvalidValue
from domain.values import Meta, canonical_reference

ISSUE_REPRODUCTIONS = [
    "010190.1234", "010190:1234", "010190_1234", "01.01.90-1234",  # as citizen refs
    "010190 1234", "010190/1234", "010190\u20131234", "0101 90 1234", "01-01-90-1234",  # in reason/case_ref
    "cpr-010190-1234",  # the Idempotency-Key of the issue
]
OTHER_FORMS = [
    "0101901234", "010190-1234", "010190\u20141234", "010190\u22121234", "010190\u20111234",
    "010190\u00a01234", "010190\u200b1234", "010190 \u2013 1234", "01/01/90 1234", "01:01:90:1234",
    "0101-90-1234", "01 0190-1234", "01-01901234",
    "borger 010190-1234 flyttet", "A0101901234B", "BOR-010190-1234",
]
UNICODE_DIGITS = [
    "\uff10\uff11\uff10\uff11\uff19\uff10\uff0d\uff11\uff12\uff13\uff14",  # full-width, full-width hyphen
    "\u0660\u0661\u0660\u0661\u0669\u0660-\u0661\u0662\u0663\u0664",  # Arabic-Indic
    "\u06f0\u06f1\u06f0\u06f1\u06f9\u06f0\u06f1\u06f2\u06f3\u06f4",  # Extended Arabic-Indic
    "\u0966\u0967\u0966\u0967\u096f\u0966 \u0967\u0968\u0969\u096a",  # Devanagari
    "01019\U0001d7ce-1234",  # a mathematical bold zero among ASCII digits
]


@pytest.mark.parametrize("text", ISSUE_REPRODUCTIONS + OTHER_FORMS + UNICODE_DIGITS)
def test_every_written_form_of_a_cpr_number_is_refused(text):
    assert looks_like_cpr(text)
    with pytest.raises(InvalidValue) as error:
        check_no_cpr(text, "reason")
    assert (error.value.rule, error.value.field) == ("cpr_number_refused", "reason")


def test_the_century_comes_from_the_serial_as_python_stdnum_reads_it():
    assert looks_like_cpr("290200-4123")  # 2000-02-29: a leap day
    assert not looks_like_cpr("290200-1123")  # 1900-02-29 was no day
    assert looks_like_cpr("311299-0001") and not looks_like_cpr("311399-0001")


def test_a_uuid_quoted_in_a_reason_passes_whatever_its_digits():
    for _ in range(2000):
        event_id = uuid.uuid4()
        assert not looks_like_cpr(f"retracts {event_id}, recorded in error")
        assert not looks_like_cpr(str(event_id).upper())
    assert not looks_like_cpr("01019012-3456-4123-8123-010190123456")  # only UUID groups: 8-4-4-4-12


def test_an_instant_the_ledger_recorded_passes_whatever_its_microseconds():
    """A write answers `recorded_at` with microseconds: `11:28:02.164895` holds 28-02-16 4895
    split after DD and DDMM, yet a reason quoting it holds no CPR number."""
    for text in ["2026-12-06T11:28:02.164895+00:00", "rettet, registreret 2026-12-06 11:28:02.164895",
                 "2026-12-06T11:28:02.164895Z"]:
        assert not looks_like_cpr(text), text
    assert looks_like_cpr("2026-12-06 010190-1234") and looks_like_cpr("kl. 11:28:02.164895")


@pytest.mark.parametrize("text", [
    "15-01-2024 10:30", "2024-01-15 12:30:00", "+45 20 12 34 56", "tlf. 86 12 34 56",
    "3201901234",  # ten digits, but the 32nd day of a month is no date
    "1231231234",  # ten digits, but month 31 is no month
    "00101901234",  # eleven digits in a row
    "faktura 2026-1234", "27.10.08-P20-1-26", "beløb 1.234.567,00",
])
def test_what_is_not_a_cpr_number_passes(text):
    assert not looks_like_cpr(text)
    check_no_cpr(text, "reason")


def test_unicode_digits_are_read_as_ascii_digits():
    assert normalise_digits("\uff17\uff10\uff17 \u0667\u0661\u0660") == "707 710"


def test_a_reference_is_canonical_upper_case_ascii():
    assert canonical_reference("bor-0002", "citizen_ref") == "BOR-0002"
    assert canonical_reference("Grenaa_Bo.2", "code") == "GRENAA_BO.2"


@pytest.mark.parametrize("text", ["SLASH/2026", "A:1", "has space", "\uff21", "\u00c6BLE", "-A", ".", "..",
                                  "A" * 65, "", "010190.1234"])
def test_a_reference_a_route_cannot_carry_or_holding_a_cpr_number_is_refused(text):
    with pytest.raises(InvalidValue) as error:
        canonical_reference(text, "citizen_ref")
    assert error.value.field == "citizen_ref"
    assert error.value.rule in ("invalid_reference", "cpr_number_refused")


def test_an_event_whose_actor_holds_a_cpr_number_is_refused():
    """The actor is stored with every event (a token's name, `ledger import --actor`)."""
    with pytest.raises(InvalidValue) as refused:
        Meta.new(str(uuid.uuid4()), date(2026, 1, 1), "job 01.01.90-1234")
    assert (refused.value.rule, refused.value.field) == ("cpr_number_refused", "actor")
    assert Meta.new(str(uuid.uuid4()), date(2026, 1, 1), "import job 7").actor == "import job 7"
