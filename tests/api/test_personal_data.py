"""Personal data through HTTP, on both stores: CPR numbers in any written form are refused in
every stored text, an Idempotency-Key is stored only as its hash, and references are one
canonical, upper-case form (domain §3, §4.10)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from urllib.parse import quote

import pytest
from alembic import command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, insert, select, text

from domain.cpr import normalise_digits
from domain.facility import Facility
from domain.values import Meta
from service.auth import create_token
from service.db import (alembic_config, api_tokens, citizen_reads, create_library_tables, idempotency_keys,
                        ledger_entries, make_engine)
from service.importer import ImportFailed, import_lines
from service.ledger import Actor, BudgetLedger, Timeline
from service.store import Idempotency
from tests.factories import facility_body, move_in_body, schedule_body

ISSUE_REFS = ["010190.1234", "010190:1234", "010190_1234", "01.01.90-1234"]
ISSUE_TEXTS = ["010190 1234", "010190/1234", "010190\u20131234", "0101 90 1234", "01-01-90-1234"]


@pytest.fixture
def grenaa(api) -> str:
    assert api.post("/v1/facilities", facility_body("GRENAA-BO"), role="finance").status_code == 201
    assert api.put("/v1/tariff-schedules/2026", schedule_body(), role="finance").status_code == 201
    return "GRENAA-BO"


def entries(ledger: BudgetLedger) -> int:
    with ledger.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(ledger_entries)).scalar()


# CPR numbers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", ISSUE_REFS)
def test_a_cpr_number_as_citizen_ref_or_facility_code_is_refused(api, ledger, grenaa, ref):
    before = entries(ledger)
    moved = api.post(f"/v1/citizens/{quote(ref, safe='')}/move-in", move_in_body(grenaa), role="caseworker")
    registered = api.post("/v1/facilities", facility_body(ref), role="finance")
    for response, fields in ((moved, ("citizen_ref", "ref")), (registered, ("code",))):
        assert response.status_code == 422, response.text
        # a character outside [A-Za-z0-9._-] is refused by the path's or body's pattern first
        assert response.json()["rule"] in ("cpr_number_refused", "invalid_input")
        assert response.json()["errors"][0]["field"] in fields
    assert entries(ledger) == before


@pytest.mark.parametrize("cpr", ISSUE_TEXTS)
@pytest.mark.parametrize("field", ["reason", "case_ref"])
def test_a_cpr_number_in_a_reason_or_case_ref_is_refused(api, ledger, grenaa, cpr, field):
    before = entries(ledger)
    response = api.post(f"/v1/facilities/{grenaa}/capacity",
                        {"effective_date": "2026-06-01", "places": 12, field: f"borger {cpr}"}, role="finance")
    assert response.status_code == 422
    assert (response.json()["rule"], response.json()["errors"][0]["field"]) == ("cpr_number_refused", field)
    assert entries(ledger) == before


def test_a_reason_quoting_an_event_id_is_recorded(api, grenaa):
    changed = api.post(f"/v1/facilities/{grenaa}/capacity", {"effective_date": "2026-06-01", "places": 12},
                       role="finance").json()
    retracted = api.post("/v1/retractions", {"event_id": changed["event_id"],
                                             "reason": f"{changed['event_id']} was entered twice"}, role="finance")
    assert retracted.status_code == 201, retracted.text


def test_a_reason_quoting_when_an_event_was_recorded_is_recorded(api, grenaa):
    changed = api.post(f"/v1/facilities/{grenaa}/capacity", {"effective_date": "2026-06-01", "places": 12},
                       role="finance").json()
    for recorded_at in (changed["recorded_at"], "2026-12-06T11:28:02.164895+00:00"):
        again = api.post(f"/v1/facilities/{grenaa}/capacity",
                         {"effective_date": "2026-06-02", "places": 13, "reason": f"som registreret {recorded_at}"},
                         role="finance")
        assert again.status_code == 201, again.text


def test_an_idempotency_key_is_stored_only_as_its_hash(api, ledger, grenaa):
    key = "retry-2026-06-01-capacity"
    body = {"effective_date": "2026-06-01", "places": 12}
    first = api.post(f"/v1/facilities/{grenaa}/capacity", body, role="finance", headers={"Idempotency-Key": key})
    again = api.post(f"/v1/facilities/{grenaa}/capacity", body, role="finance", headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    with ledger.engine.connect() as connection:
        stored = connection.execute(select(idempotency_keys.c.key)).scalars().all()
    assert stored == [hashlib.sha256(key.encode()).hexdigest()]


def test_an_idempotency_key_shaped_like_a_cpr_number_is_refused_and_nothing_is_recorded(api, ledger, grenaa):
    """The key is a header the ledger keeps; its hash alone would not hide a CPR number (about
    3.7e8 of them have a valid date, few enough to enumerate), so the one guard refuses it."""
    position = Timeline(ledger.engine).max_position()
    with ledger.engine.connect() as connection:
        keys_before = connection.execute(select(idempotency_keys.c.key)).scalars().all()
    refused = api.post(f"/v1/facilities/{grenaa}/capacity", {"effective_date": "2026-06-01", "places": 12},
                       role="finance", headers={"Idempotency-Key": "cpr-010190-1234"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] == "cpr_number_refused"
    assert [error["field"] for error in refused.json()["errors"]] == ["Idempotency-Key"]
    assert Timeline(ledger.engine).max_position() == position
    with ledger.engine.connect() as connection:
        assert connection.execute(select(idempotency_keys.c.key)).scalars().all() == keys_before


def test_migration_0011_hashes_the_keys_already_stored_and_their_retries_still_replay(settings):
    create_library_tables(settings)
    engine = make_engine(settings)
    try:
        command.upgrade(alembic_config(settings, engine), "0010")
        response = {"event_id": "e", "event_ids": ["e"], "position": 1, "recorded_at": "2026-12-06T10:00:00+00:00"}
        with engine.begin() as connection:
            connection.execute(insert(idempotency_keys).values(
                principal="caseworker-tester", key="cpr-010190-1234", fingerprint="f1",
                response=json.dumps(response), created_at=date(2026, 12, 6)))
        command.upgrade(alembic_config(settings, engine), "head")
        with engine.connect() as connection:
            assert connection.execute(select(idempotency_keys.c.key)).scalars().all() == [
                hashlib.sha256(b"cpr-010190-1234").hexdigest()]
    finally:
        engine.dispose()
    ledger = BudgetLedger(settings)
    try:
        replayed = ledger._replay(Idempotency("caseworker-tester", "cpr-010190-1234", "f1"))
        assert replayed is not None and replayed.replayed and replayed.body == response
    finally:
        ledger.close()


# Canonical references ------------------------------------------------------------------------

def test_bor_0002_and_BOR_0002_are_one_citizen(api, grenaa):
    assert api.post("/v1/citizens/bor-0002/move-in", move_in_body(grenaa), role="caseworker").status_code == 201
    again = api.post("/v1/citizens/BOR-0002/move-in", move_in_body(grenaa, day="2026-04-01"), role="caseworker")
    assert again.status_code == 409 and again.json()["rule"] == "open_stay_exists"
    citizen = api.get("/v1/citizens/bor-0002", role="caseworker").json()
    assert citizen["citizen_ref"] == "BOR-0002" and len(citizen["stays"]) == 1
    assert api.get("/v1/citizens/Bor-0002", role="caseworker").json()["citizen_ref"] == "BOR-0002"


def test_a_facility_code_is_stored_upper_cased_and_reached_in_any_case(api, grenaa):
    assert api.post("/v1/facilities", facility_body("grenaa-nord"), role="finance").status_code == 201
    assert api.post("/v1/facilities", facility_body("GRENAA-NORD"), role="finance").json()["rule"] == "facility_code_taken"
    assert api.get("/v1/facilities/grenaa-nord", role="finance").json()["code"] == "GRENAA-NORD"
    moved = api.post("/v1/citizens/C-1/move-in", move_in_body("grenaa-nord"), role="caseworker")
    assert moved.status_code == 201
    stays = api.get("/v1/citizens/c-1", role="caseworker").json()["stays"]
    assert [s["facility"] for s in stays] == ["GRENAA-NORD"]


@pytest.mark.parametrize("code", ["SLASH/2026", "A:1", "GRENAA BO", "\u00c6BLEHAVEN", "-A"])
def test_a_facility_code_no_route_can_carry_is_refused(api, ledger, code):
    response = api.post("/v1/facilities", facility_body(code), role="finance")
    assert response.status_code == 422
    assert response.json()["rule"] in ("invalid_input", "invalid_reference")
    assert response.json()["errors"][0]["field"] == "code"
    assert entries(ledger) == 0


def test_a_citizen_ref_outside_the_ascii_set_is_refused_naming_the_field(api, grenaa):
    response = api.post(f"/v1/citizens/{quote('BOR:0002')}/move-in", move_in_body(grenaa), role="caseworker")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "ref"


# The property: no CPR number reaches any table ------------------------------------------------

DIGIT_ZEROS = [ord("0"), 0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1D7CE]
"""ASCII, full-width, Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Thai,
mathematical bold: the zero of each run of ten decimal digits."""
SEPARATORS = ["", " ", "-", ".", "/", ":", "_", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015",
              "\u2212", "\ufe63", "\uff0d", "\u00a0", "\u2009", "\u200b", "\u00ad", " - ", ". "]
GROUPINGS = [(6,), (2, 4, 6), (4, 6), (2, 6), (2, 4), ()]
"""Where the ten digits are split: DDMMYY-XXXX, DD.MM.YY-XXXX, DDMM YY XXXX, ... or not at all."""


@st.composite
def cpr_numbers(draw: st.DrawFn, ascii_only: bool = False) -> tuple[str, str]:
    """(the CPR number's ten ASCII digits, a written form of it)."""
    born = draw(st.dates(date(1900, 1, 1), date(2036, 12, 31)))
    yy = born.year % 100
    if born.year < 2000:
        firsts = "0123" + ("49" if yy >= 37 else "")
    else:
        firsts = "49" + ("5678" if yy <= 57 else "")
    serial = draw(st.sampled_from(firsts)) + draw(st.text("0123456789", min_size=3, max_size=3))
    digits = born.strftime("%d%m") + f"{yy:02d}" + serial
    cuts = draw(st.sampled_from(GROUPINGS))
    written = ""
    for index, digit in enumerate(digits):
        if index in cuts:
            written += draw(st.sampled_from([s for s in SEPARATORS if s.isascii()] if ascii_only else SEPARATORS))
        zero = ord("0") if ascii_only else draw(st.sampled_from(DIGIT_ZEROS))
        written += chr(zero + int(digit))
    around = draw(st.sampled_from(["{}", "cpr {}", "borger {} flyttet", "ref-{}", "{}x"]))
    return digits, around.format(written)


TEXT_SLOTS = {
    "facility.code": lambda cpr: ("POST", "/v1/facilities", facility_body(cpr)),
    "facility.name": lambda cpr: ("POST", "/v1/facilities", facility_body("NEW-1") | {"name": cpr}),
    "facility.area": lambda cpr: ("POST", "/v1/facilities", facility_body("NEW-2") | {"area": cpr}),
    "facility.reason": lambda cpr: ("POST", "/v1/facilities", facility_body("NEW-3") | {"reason": cpr}),
    "capacity.case_ref": lambda cpr: ("POST", "/v1/facilities/GRENAA-BO/capacity",
                                      {"effective_date": "2026-06-01", "places": 12, "case_ref": cpr}),
    "schedule.special_tariff_name": lambda cpr: (
        "PUT", "/v1/tariff-schedules/2026",
        schedule_body() | {"special_tariffs": [{"code": "S1", "name": cpr}]}),
    "revision.reason": lambda cpr: ("POST", "/v1/tariff-schedules/2026/revisions",
                                    {"effective_date": "2026-07-01", "level": 3, "daily_rate": "2100.00",
                                     "reason": cpr}),
    "frame.reason": lambda cpr: ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026",
                                 {"budgeted_places": 10, "planned_occupancy_pct": "100",
                                  "lines": [{"category": "nattevagt", "amount": "1000.00"}], "reason": cpr}),
    "baseline.case_ref": lambda cpr: ("PUT", "/v1/facilities/GRENAA-BO/baselines/2026",
                                      {"baseline_budget": "1000.00", "phase_in_pct": "50", "case_ref": cpr}),
    "accounts.reason": lambda cpr: ("POST", "/v1/facilities/GRENAA-BO/accounts/2026",
                                    {"actual_costs": "1000.00", "reason": cpr}),
    "move_in.citizen_ref": lambda cpr: ("POST", f"/v1/citizens/{quote(cpr, safe='')}/move-in",
                                        move_in_body("GRENAA-BO")),
    "move_in.facility": lambda cpr: ("POST", "/v1/citizens/NEW-C/move-in", move_in_body(cpr)),
    "move_in.reason": lambda cpr: ("POST", "/v1/citizens/NEW-C/move-in", move_in_body("GRENAA-BO", reason=cpr)),
    "reassessment.case_ref": lambda cpr: ("POST", "/v1/citizens/A/reassessments",
                                          {"effective_date": "2026-05-01", "assessment": {"hours_per_day": "3"},
                                           "case_ref": cpr}),
    "special_tariff.reason": lambda cpr: ("POST", "/v1/citizens/A/special-tariff",
                                          {"effective_date": "2026-05-01", "code": "S1", "daily_rate": "6000.00",
                                           "reason": cpr}),
    "paying_municipality.reason": lambda cpr: ("POST", "/v1/citizens/A/paying-municipality",
                                               {"effective_date": "2026-05-01", "paying_municipality": "751",
                                                "reason": cpr}),
    "move_out.case_ref": lambda cpr: ("POST", "/v1/citizens/A/move-out",
                                      {"effective_date": "2026-12-01", "kind": "moved", "case_ref": cpr}),
    "retraction.reason": lambda cpr: ("POST", "/v1/retractions", {"event_id": "RETRACTABLE", "reason": cpr}),
}


def stored_texts(ledger: BudgetLedger) -> list[tuple[str, str]]:
    """Every value of every table as text (event payloads decoded, JSON read back unescaped),
    its digits normalised to ASCII and everything but letters and digits dropped."""
    found = []
    with ledger.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    raw = bytes(value).decode("utf-8", "replace") if isinstance(value, (bytes, memoryview)) \
                        else str(value)
                    try:
                        raw = json.dumps(json.loads(raw), ensure_ascii=False)
                    except ValueError:
                        pass
                    found.append((table, "".join(ch for ch in normalise_digits(raw) if ch.isalnum())))
    return found


EXAMPLES_PER_FIELD = 12


def test_no_cpr_number_in_any_form_reaches_any_table(api, ledger, grenaa):
    """Generated CPR numbers, in every grouping, separator and digit script, sent in every
    stored text field and as the Idempotency-Key: no table holds one afterwards."""
    assert api.post("/v1/citizens/A/move-in", move_in_body(grenaa), role="caseworker").status_code == 201
    capacity = api.post(f"/v1/facilities/{grenaa}/capacity", {"effective_date": "2026-06-01", "places": 11},
                        role="finance").json()
    sent: list[str] = []
    slots: set[str] = set()

    def text_field(slot: str) -> None:
        @given(cpr=cpr_numbers())
        @hypothesis_settings(max_examples=EXAMPLES_PER_FIELD, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))
        def send(cpr: tuple[str, str]) -> None:
            digits, written = cpr
            method, path, body = TEXT_SLOTS[slot](written)
            if body.get("event_id") == "RETRACTABLE":
                body["event_id"] = capacity["event_id"]
            response = api.as_("admin", method, path, json=body)
            assert response.status_code in (404, 422), (slot, written, response.status_code, response.text[:300])
            sent.append(digits)
            slots.add(slot)

        send()

    @given(cpr=cpr_numbers(ascii_only=True))
    @hypothesis_settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def idempotency_keys_(cpr: tuple[str, str]) -> None:
        digits, written = cpr
        response = api.post(f"/v1/facilities/{grenaa}/capacity", {"effective_date": "2026-06-02", "places": 12},
                            role="finance", headers={"Idempotency-Key": written})
        assert response.status_code == 422 and response.json()["rule"] == "cpr_number_refused", response.text
        assert response.json()["errors"][0]["field"] == "Idempotency-Key", response.text
        sent.append(digits)

    for slot in TEXT_SLOTS:
        text_field(slot)
    idempotency_keys_()
    assert slots == set(TEXT_SLOTS)
    leaks = [(table, digits) for table, value in stored_texts(ledger) for digits in set(sent) if digits in value]
    assert not leaks, leaks[:5]


def test_the_scan_of_the_tables_sees_a_stored_value(api, ledger, grenaa):
    """The property's scan is not blind: a ten-digit journal number that is no CPR number
    (no date in it) is stored and found, in Arabic-Indic digits and in an event payload."""
    journal = "3299901234"
    written = "".join(chr(0x0660 + int(d)) for d in journal)
    response = api.post(f"/v1/facilities/{grenaa}/capacity",
                        {"effective_date": "2026-06-01", "places": 12, "case_ref": f"j.nr. {written}"},
                        role="finance")
    assert response.status_code == 201
    assert any(journal in value for table, value in stored_texts(ledger) if table == "stored_events")


def test_a_token_name_holding_a_cpr_number_is_refused(ledger):
    with pytest.raises(ValueError, match="CPR"):
        create_token(ledger.engine, "caseworker", "job 01.01.90-1234")
    with ledger.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(api_tokens)).scalar() == 0


def test_an_import_reaches_the_same_canonical_citizen_as_the_api(api, ledger, grenaa):
    line = json.dumps({"command": "move-in", "citizen_ref": "bor-0003", "facility": "grenaa-bo",
                       "effective_date": "2026-03-10", "paying_municipality": "707",
                       "assessment": {"hours_per_day": "1"}})
    import_lines(ledger, [line], Actor("importer", "admin"))
    again = api.post("/v1/citizens/BOR-0003/move-in", move_in_body(grenaa, day="2026-04-01"), role="caseworker")
    assert again.status_code == 409 and again.json()["rule"] == "open_stay_exists"
    with pytest.raises(ImportFailed) as refused:
        import_lines(ledger, [line.replace("bor-0003", "BOR:0004")], Actor("importer", "admin"))
    assert (refused.value.field, refused.value.rule) == ("citizen_ref", "invalid_reference")


def test_a_facility_recorded_before_codes_were_canonical_is_still_listed(api, ledger):
    """A store written before this rule may hold `slash/2026`: its stream is kept, listed
    and read under the spelling it was recorded with (docs/adr/0020)."""
    legacy = Facility(code="slash/2026", name="Gammel", kind="botilbud", area="Grenaa", places=5,
                      meta=Meta.new(str(uuid.uuid4()), date(2026, 1, 1), "tester"))
    ledger._command(lambda: [legacy], None)
    assert api.post("/v1/facilities", facility_body("GRENAA-BO"), role="finance").status_code == 201
    listed = api.get("/v1/facilities", role="finance")
    assert listed.status_code == 200
    assert [f["code"] for f in listed.json()["facilities"]] == ["slash/2026", "GRENAA-BO"]
    assert ledger.facility("slash/2026").name == "Gammel"


def test_the_audit_logs_its_citizen_reads_under_its_parsed_parameters_only(api, ledger, grenaa):
    """The read of /v1/audit is logged with the parameters it was read with, canonical: an
    unknown parameter, which the read ignores, does not reach `citizen_reads`."""
    assert api.post("/v1/citizens/bor-7/move-in", move_in_body(grenaa), role="caseworker").status_code == 201
    read = api.get("/v1/audit", role="auditor",
                   params={"citizen": "bor-7", "from": "2023-11-26T16:20:34+01:00", "note": "01.01.90-1234"})
    assert read.status_code == 200 and read.json()["events"], read.text
    with ledger.engine.connect() as connection:
        resources = connection.execute(select(citizen_reads.c.resource)).scalars().all()
    assert resources and all(r == "/v1/audit?citizen=BOR-7&from=2023-11-26T16:20:34%2B01:00" for r in resources), resources
    leaks = [(table, value) for table, value in stored_texts(ledger) if "0101901234" in value]
    assert not leaks, leaks[:3]


def test_who_read_a_citizen_is_found_by_any_spelling_of_its_ref(api, grenaa):
    assert api.post("/v1/citizens/BOR-8/move-in", move_in_body(grenaa), role="caseworker").status_code == 201
    assert api.get("/v1/citizens/BOR-8", role="caseworker").status_code == 200
    reads = api.get("/v1/audit/citizen-reads", role="auditor", params={"citizen": "bor-8"})
    assert reads.status_code == 200
    assert [(r["citizen_ref"], r["resource"]) for r in reads.json()["reads"]] == [("BOR-8", "/v1/citizens/BOR-8")]
    refused = api.get("/v1/audit/citizen-reads", role="auditor", params={"citizen": "010190-1234"})
    assert refused.status_code == 422 and refused.json()["rule"] == "cpr_number_refused"
