"""The municipality register: the spec's 98 codes, shipped in the package, and the only
paying municipalities the domain accepts (three ASCII digits, never other Unicode digits)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from domain import municipalities
from domain.errors import InvalidValue
from domain.values import check_municipality
from service.export import content_disposition

REPOSITORY = Path(__file__).resolve().parents[2]
SPEC = next((found for folder in REPOSITORY.parents if (found := folder / "shared" / "spec" / "kommuner.csv").exists()),
            REPOSITORY.parent / "shared" / "spec" / "kommuner.csv")
"""The spec's kommuner.csv beside the repository (../shared), or beside a folder above it (a worktree)."""


@pytest.mark.skipif(not SPEC.exists(), reason=f"{SPEC} is not beside the repository")
def test_the_register_in_the_package_is_the_specs_kommuner_csv():
    with SPEC.open(encoding="utf-8", newline="") as file:
        header, *rows = list(csv.reader(file, delimiter=";"))
    assert header == ["kode", "navn"]
    assert list(municipalities.REGISTER.items()) == [(code, name) for code, name in rows]


def test_the_register_holds_the_98_municipalities_with_norddjurs_and_aarhus():
    assert len(municipalities.CODES) == len(set(municipalities.CODES)) == 98
    assert municipalities.REGISTER["707"] == "Norddjurs" and municipalities.REGISTER["751"] == "Aarhus"
    assert all(len(code) == 3 and set(code) <= set("0123456789") for code in municipalities.CODES)


@pytest.mark.parametrize("code", ["751", "707", "101", "400", "860"])
def test_every_code_of_the_register_is_accepted(code):
    assert check_municipality(code) == code


@pytest.mark.parametrize("code", ["７０７", "٧١٠", "७५१", "75１", "751\n", " 751", "75", "7510", "abc", "", 751, None])
def test_anything_but_three_ascii_digits_is_an_invalid_municipality_naming_the_field(code):
    with pytest.raises(InvalidValue) as refused:
        check_municipality(code, "paying_municipality")
    assert (refused.value.rule, refused.value.field) == ("invalid_municipality", "paying_municipality")


@pytest.mark.parametrize("code", ["999", "000", "100", "708", "752"])
def test_three_ascii_digits_no_municipality_has_are_an_unknown_municipality(code):
    with pytest.raises(InvalidValue) as refused:
        check_municipality(code, "municipality")
    assert (refused.value.rule, refused.value.field) == ("unknown_municipality", "municipality")
    assert code in refused.value.message


def test_a_name_is_shown_with_its_code_and_the_official_names_that_differ_are_used():
    assert municipalities.label("751") == "Aarhus Kommune (751)"
    assert municipalities.label("707") == "Norddjurs Kommune (707)"
    assert municipalities.label("101") == "Københavns Kommune (101)"
    assert municipalities.label("400") == "Bornholms Regionskommune (400)"
    assert municipalities.official_name("147") == "Frederiksberg Kommune"


@pytest.mark.parametrize("code", ["999", "７０７", "٧١٠", "751\n"])
def test_a_code_outside_the_register_is_shown_as_unknown_not_refused(code):
    assert municipalities.official_name(code) is None
    assert municipalities.label(code) == f"ukendt kommune ({code})"


@pytest.mark.parametrize("name", ["afregning-751-2026-09.xlsx", "afregning-７０７-2026-09.xlsx",
                                  "afregning-٧١٠-2026-09.csv", 'a"b\\c\r\nd.csv', "æøå.xlsx"])
def test_a_content_disposition_is_always_latin_1_and_names_the_file_exactly(name):
    from urllib.parse import unquote

    header = content_disposition(name)
    header.encode("ascii")  # what Starlette encodes as latin-1 never fails
    assert "\r" not in header and "\n" not in header
    if name.isascii() and name.isprintable() and '"' not in name and "\\" not in name:
        assert header == f'attachment; filename="{name}"'
    else:
        assert unquote(header.split("filename*=UTF-8''")[1]) == name
