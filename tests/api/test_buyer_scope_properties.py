"""A property of random histories (issue 23): every response to the `buyer` token of Aarhus
(751) holds only stays and days that Aarhus pays for, and every citizen Aarhus pays for is
there, now and as of an earlier point; a citizen Aarhus never paid for reads exactly as an
unknown one; the statement's export and PDF document name exactly the citizens of its JSON
read; every position a Køberkommune page's step bar names is one where what that page shows
Aarhus changed (docs/adr/0045). The truth of who pays when is the citizen's own read
(GET /v1/citizens/{ref} by admin), a path of its own.

Histories: stays moving between payers (751, 730, 707), payer changes mid-month,
reassessments, retractions of the latest event, move-outs and new stays with another payer, on both stores; a modest number of
examples (the store is shared by the examples of one run, each with citizens of its own)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from tests.api.test_buyers import pdf_text
from tests.conftest import BUYER_MUNICIPALITY as AARHUS
from tests.factories import døgnskema, facility_body, frame_body, ref, schedule_body

YEAR = 2026
PAYERS = ("751", "730", "707")
STEP = st.one_of(
    st.tuples(st.just("payer"), st.integers(1, 45), st.sampled_from(PAYERS)),
    st.tuples(st.just("reassess"), st.integers(1, 45), st.integers(60, 700)),
    st.tuples(st.just("retract"), st.just(0), st.just(0)),
    st.tuples(st.just("move-out"), st.integers(0, 60), st.just(0)),
    st.tuples(st.just("move-in"), st.integers(1, 40), st.sampled_from(PAYERS)),
)
CITIZEN = st.tuples(st.integers(0, 200), st.sampled_from(PAYERS), st.lists(STEP, max_size=5))


def record(api: Any, citizen: str, move_in_day: int, payer: str, steps: list[tuple[str, int, Any]]) -> None:
    """Record one citizen's history; commands the ledger refuses (409) are simply not there."""
    day = date(YEAR, 1, 1) + timedelta(days=move_in_day)
    moved_in = api.post(f"/v1/citizens/{citizen}/move-in", {
        "facility": "GRENAA-BO", "effective_date": day.isoformat(), "paying_municipality": payer,
        "assessment": døgnskema(240)}, role="caseworker")
    assert moved_in.status_code == 201, moved_in.text
    events = [moved_in.json()["event_id"]]
    for kind, offset, value in steps:
        day = min(day + timedelta(days=offset), date(YEAR, 12, 31))
        if kind == "payer":
            response = api.post(f"/v1/citizens/{citizen}/paying-municipality",
                                {"effective_date": day.isoformat(), "paying_municipality": value}, role="caseworker")
        elif kind == "reassess":
            response = api.post(f"/v1/citizens/{citizen}/reassessments",
                                {"effective_date": day.isoformat(), "assessment": døgnskema(value)}, role="caseworker")
        elif kind == "move-in":  # a new stay, after a move-out (else refused)
            response = api.post(f"/v1/citizens/{citizen}/move-in", {
                "facility": "GRENAA-BO", "effective_date": day.isoformat(), "paying_municipality": value,
                "assessment": døgnskema(300)}, role="caseworker")
        elif kind == "move-out":
            response = api.post(f"/v1/citizens/{citizen}/move-out", {"effective_date": day.isoformat(),
                                                                     "kind": "moved"}, role="caseworker")
        elif not events:
            break
        else:
            response = api.post("/v1/retractions", {"event_id": events[-1], "reason": "fejl"}, role="caseworker")
        assert response.status_code in (201, 409, 422), response.text
        if response.status_code == 201 and kind != "retract":
            events.append(response.json()["event_id"])
        elif response.status_code == 201:
            events.pop()


def paid_spans(api: Any, citizen: str, position: int) -> list[tuple[date, date]]:
    """The present days each stay of the citizen is paid by Aarhus, by the citizen's own read:
    runs of consecutive days (an open stay's last period to the end of time)."""
    body = api.get(f"/v1/citizens/{citizen}?as_of_position={position}")
    if body.status_code == 404:
        return []
    spans: list[tuple[date, date]] = []
    for stay in body.json()["stays"]:
        for period in stay["periods"]:
            if period["paying_municipality"] != AARHUS:
                continue
            start, end = date.fromisoformat(period["from"]), date.fromisoformat(period["to"] or "2099-12-31")
            if spans and spans[-1][1] + timedelta(days=1) == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return spans


def within(start: str, end: str | None, spans: list[tuple[date, date]]) -> bool:
    first, last = date.fromisoformat(start), date.fromisoformat(end or "2099-12-31")
    return any(a <= first and last <= b for a, b in spans)


def in_year(spans: list[tuple[date, date]]) -> bool:
    return any(a <= date(YEAR, 12, 31) and b >= date(YEAR, 1, 1) for a, b in spans)


EXPORTED_MONTHS = (1, 6, 12)
"""The months whose CSV export and PDF document are read too (the JSON of every month is)."""


def check_scope(api: Any, citizens: list[str], position: int) -> None:
    truth = {citizen: paid_spans(api, citizen, position) for citizen in citizens}
    listed = api.get(f"/v1/buyers/{AARHUS}/citizens?year={YEAR}&as_of_position={position}", role="buyer")
    assert listed.status_code == 200, listed.text
    rows = [r for r in listed.json()["citizens"] if r["citizen_ref"] in truth]
    for row in rows:
        assert within(row["paid_from"], row["paid_to"], truth[row["citizen_ref"]]), (row, truth[row["citizen_ref"]])
    assert {r["citizen_ref"] for r in rows} == {c for c, spans in truth.items() if in_year(spans)}
    unknown = api.get(f"/v1/buyers/{AARHUS}/citizens/NOBODY-{position}?as_of_position={position}", role="buyer")
    assert unknown.status_code == 404
    for citizen, spans in truth.items():
        read = api.get(f"/v1/buyers/{AARHUS}/citizens/{citizen}?as_of_position={position}", role="buyer")
        if not spans:
            assert read.status_code == 404
            assert read.json()["type"] == unknown.json()["type"] and read.json()["detail"] == unknown.json()["detail"]
            continue
        assert read.status_code == 200, read.text
        body = read.json()
        assert body["periods"] and all(within(p["from"], p["to"], spans) for p in body["periods"]), (body, spans)
        for assessment in body["assessments"]:  # in force on a paid day: it begins before a paid span ends
            assert any(date.fromisoformat(assessment["effective_date"]) <= b for _, b in spans)
    for month in range(1, 13):
        statement = api.get(f"/v1/statements/{AARHUS}/{YEAR}/{month}?as_of_position={position}", role="buyer")
        assert statement.status_code == 200, statement.text
        for line in statement.json()["lines"]:
            if line["citizen_ref"] not in truth:
                continue
            assert all(within(p["from"], p["to"], truth[line["citizen_ref"]]) for p in line["periods"]), line
        on_statement = {line["citizen_ref"] for line in statement.json()["lines"]}
        if month not in EXPORTED_MONTHS:
            continue
        path = f"/v1/statements/{AARHUS}/{YEAR}/{month}"
        exported = api.get(f"{path}/export?format=csv&as_of_position={position}", role="buyer")
        assert exported.status_code == 200, exported.text
        rows = exported.content.decode("utf-8-sig").splitlines()[1:]
        assert {row.split(";")[0] for row in rows} & set(truth) == on_statement & set(truth), (month, rows)
        document = api.get(f"{path}/document?as_of_position={position}", role="buyer")  # also of a month
        assert document.status_code == 200, document.text  # without Aarhus' stays: it names no one then
        text = pdf_text(document.content)
        assert {citizen for citizen in truth if citizen in text} == on_statement & set(truth), month


def buyer_view(api: Any, path: str, position: int) -> Any:
    """A buyer's JSON read as of a position without its point (None: not there)."""
    read = api.get(f"{path}?as_of_position={position}", role="buyer")
    if read.status_code == 404:
        return None
    assert read.status_code == 200, read.text
    return {key: value for key, value in read.json().items() if key not in ("as_of_position", "now")}


def statement_view(api: Any, month: int, position: int) -> Any:
    """What the statement page shows: the month's statement and each month's stays and total."""
    months = [buyer_view(api, f"/v1/statements/{AARHUS}/{YEAR}/{m}", position) for m in range(1, 13)]
    return months[month - 1], [(len(s["lines"]), s["total"]) for s in months]


def check_bars(api: Any, citizens: list[str], position: int) -> None:
    """Every position a buyer page's step bar names (its last change, its previous and next
    links) is one where what that page shows Aarhus changed, by the buyer's own JSON reads."""
    from tests.api.test_buyer_steps import bar

    for citizen in citizens:
        page = api.client.get(f"/ui/koeber/borger/{citizen}?as_of={position}")
        if page.status_code == 404:
            continue
        path = f"/v1/buyers/{AARHUS}/citizens/{citizen}"
        last, previous, following = bar(page)
        for named in (last, following):
            if named is not None:
                assert buyer_view(api, path, named) != buyer_view(api, path, named - 1), (citizen, named)
        if previous is not None:
            assert previous == last - 1 and buyer_view(api, path, previous) is not None
    for month in (6,):
        last, previous, following = bar(api.client.get(f"/ui/koeber/afregning?year={YEAR}&month={month}"
                                                        f"&as_of={position}"))
        for named in (last, following):
            if named is not None:
                assert statement_view(api, month, named) != statement_view(api, month, named - 1), (month, named)


def test_every_buyer_response_holds_only_what_its_municipality_pays_for(api):
    api.post("/v1/facilities", facility_body("GRENAA-BO", places=50), role="finance")
    api.put(f"/v1/tariff-schedules/{YEAR}", schedule_body(), role="finance")
    api.put(f"/v1/facilities/GRENAA-BO/frame-budgets/{YEAR}", frame_body(), role="finance")
    recorded: list[str] = []
    from tests.api.ui_session import log_in

    api.client.cookies.set("ledger_session", log_in(api.client, api.tokens["buyer"]))

    @given(st.lists(CITIZEN, min_size=1, max_size=3))
    @hypothesis_settings(max_examples=10, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    def history(citizens: list[tuple[int, str, list[tuple[str, int, Any]]]]) -> None:
        start = api.get("/health").json()["position"]
        refs = []
        for move_in_day, payer, steps in citizens:
            refs.append(ref("K"))
            record(api, refs[-1], move_in_day, payer, steps)
        recorded.extend(refs)
        latest = api.get("/health").json()["position"]
        check_scope(api, recorded, latest)
        check_scope(api, recorded, (start + latest) // 2)
        check_bars(api, refs, latest)

    history()
