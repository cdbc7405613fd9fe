"""A buying municipality's reads (issue 23): the buyer token of Aarhus (751) sees its own
citizens during the days Aarhus pays, their døgnskema support, its statements and their PDF
documents, and nothing of any other municipality; every read is logged with its municipality."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.api.app import create_app
from service.auth import create_token
from service.db import rm_stays
from service.projection import Projector
from tests.conftest import Api
from tests.factories import døgnskema, facility_body, frame_body, schedule_body


def entries(*items: tuple[str, str, str, int]) -> dict:
    return {"entries": [{"theme": t, "slot": s, "kind": k, "minutes": m} for t, s, k, m in items]}


@pytest.fixture
def aarhus(api):
    """A: Aarhus pays from 10 Jan, reassessed 15 Feb, Randers (730) from 10 Mar; B: Randers only;
    C: Norddjurs, then Aarhus from 1 Feb, moves out 20 Mar."""
    steps = [
        ("post", "/v1/facilities", facility_body("GRENAA-BO"), "finance"),
        ("put", "/v1/tariff-schedules/2026", schedule_body(), "finance"),
        ("put", "/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body(), "finance"),
        ("post", "/v1/citizens/A/move-in", {"facility": "GRENAA-BO", "effective_date": "2026-01-10",
                                            "paying_municipality": "751", "assessment": entries(
                                                ("egenomsorg", "morning", "direct", 120),
                                                ("praktiske_opgaver", "evening", "indirect", 60))}, "caseworker"),
        ("post", "/v1/citizens/A/reassessments", {"effective_date": "2026-02-15", "assessment": entries(
            ("egenomsorg", "morning", "direct", 180), ("mobilitet", "daytime", "direct", 90))}, "caseworker"),
        ("post", "/v1/citizens/A/paying-municipality", {"effective_date": "2026-03-10",
                                                        "paying_municipality": "730"}, "caseworker"),
        ("post", "/v1/citizens/A/reassessments", {"effective_date": "2026-04-01", "assessment": døgnskema(600)},
         "caseworker"),
        ("post", "/v1/citizens/B/move-in", {"facility": "GRENAA-BO", "effective_date": "2026-01-05",
                                            "paying_municipality": "730", "assessment": døgnskema(300)}, "caseworker"),
        ("post", "/v1/citizens/C/move-in", {"facility": "GRENAA-BO", "effective_date": "2026-01-03",
                                            "paying_municipality": "707", "assessment": {"hours_per_day": "3"}},
         "caseworker"),
        ("post", "/v1/citizens/C/paying-municipality", {"effective_date": "2026-02-01",
                                                        "paying_municipality": "751"}, "caseworker"),
        ("post", "/v1/citizens/C/move-out", {"effective_date": "2026-03-20", "kind": "moved"}, "caseworker"),
    ]
    for method, path, body, role in steps:
        response = getattr(api, method)(path, body, role=role)
        assert response.status_code == 201, response.text
    return api


def test_the_buyer_lists_its_citizens_during_the_days_it_pays(aarhus):
    body = aarhus.get("/v1/buyers/751/citizens?year=2026", role="buyer").json()
    rows = [(r["citizen_ref"], r["paid_from"], r["paid_to"], r["level"], r["special_tariff"]) for r in body["citizens"]]
    assert rows == [("A", "2026-01-10", "2026-03-09", 3, None), ("C", "2026-02-01", "2026-03-20", 2, None)]
    assert body["municipality_name"] == "Aarhus Kommune"
    assert aarhus.get("/v1/buyers/751/citizens?year=2026", role="finance").json()["citizens"] == body["citizens"]
    randers = aarhus.get("/v1/buyers/730/citizens?year=2026", role="auditor").json()["citizens"]
    assert [(r["citizen_ref"], r["paid_from"]) for r in randers] == [("A", "2026-03-10"), ("B", "2026-01-05")]


def test_the_buyer_reads_the_døgnskema_support_it_pays_for(aarhus):
    body = aarhus.get("/v1/buyers/751/citizens/a", role="buyer").json()
    assert [(p["from"], p["to"], p["level"]) for p in body["periods"]] == [
        ("2026-01-10", "2026-02-14", 2), ("2026-02-15", "2026-03-09", 3)]
    assert all(p["service_rate"] for p in body["periods"])
    first, second = body["assessments"]  # the one from 1 April falls in Randers' days
    assert (first["effective_date"], first["hours_per_day"], first["level"], first["changes"]) == \
        ("2026-01-10", "3.00", 2, None)
    assert {(e["theme"], e["slot"], e["kind"], e["minutes"]) for e in first["entries"]} == {
        ("egenomsorg", "morning", "direct", 120), ("praktiske_opgaver", "evening", "indirect", 60)}
    assert (second["effective_date"], second["hours_per_day"], second["level"]) == ("2026-02-15", "4.50", 3)
    assert second["changes"]["previous_effective_date"] == "2026-01-10"
    assert second["changes"]["hours_per_day_before"] == "3.00"
    assert [(e["theme"], e["minutes_before"], e["minutes_after"]) for e in second["changes"]["entries"]] == [
        ("egenomsorg", 120, 180), ("praktiske_opgaver", 60, 0), ("mobilitet", 0, 90)]
    # C: Norddjurs paid January; Aarhus sees the assessment in force when it began paying, not before
    c = aarhus.get("/v1/buyers/751/citizens/C", role="buyer").json()
    assert [(p["from"], p["to"]) for p in c["periods"]] == [("2026-02-01", "2026-03-20")]
    assert [(a["effective_date"], a["entries"]) for a in c["assessments"]] == [("2026-01-03", [])]


def test_an_unknown_citizen_and_one_paid_by_another_read_alike(aarhus):
    unknown = aarhus.get("/v1/buyers/751/citizens/NOBODY", role="buyer")
    others = aarhus.get("/v1/buyers/751/citizens/B", role="buyer")
    assert unknown.status_code == others.status_code == 404
    strip = lambda r: {k: v for k, v in r.json().items() if k not in ("instance", "correlation_id")}  # noqa: E731
    assert strip(unknown) == strip(others)
    for path in ("/v1/buyers/730/citizens", "/v1/buyers/730/citizens/B", "/v1/statements/730/2026/3",
                 "/v1/statements/730/2026/3/document", "/v1/citizens/A", "/v1/budgets/GRENAA-BO/2026",
                 "/v1/central/2026", "/v1/audit", "/v1/facilities"):
        response = aarhus.get(path, role="buyer")
        assert response.status_code == 403, (path, response.text)


def test_the_buyer_reads_its_statement_and_as_of_a_point(aarhus):
    march = aarhus.get("/v1/statements/751/2026/3", role="buyer").json()
    assert [(line["citizen_ref"], line["days"]) for line in march["lines"]] == [("A", 9), ("C", 20)]
    assert march == {**aarhus.get("/v1/statements/751/2026/3", role="finance").json(), "now": march["now"]}
    before = aarhus.get("/v1/buyers/751/citizens?year=2026&as_of_position=4", role="buyer").json()
    assert [(r["citizen_ref"], r["paid_to"]) for r in before["citizens"]] == [("A", "2026-12-31")]
    early = aarhus.get("/v1/buyers/751/citizens/A?as_of_position=4", role="buyer").json()
    assert [a["effective_date"] for a in early["assessments"]] == ["2026-01-10"]
    assert aarhus.get("/v1/buyers/751/citizens/C?as_of_position=4", role="buyer").status_code == 404


def test_every_buyer_read_is_logged_with_its_municipality(aarhus):
    aarhus.get("/v1/buyers/751/citizens/A", role="buyer")
    aarhus.get("/v1/buyers/751/citizens?year=2026", role="buyer")
    aarhus.get("/v1/statements/751/2026/3/document", role="buyer")
    aarhus.get("/v1/buyers/751/citizens/B", role="buyer")  # refused: not logged as a read of B
    reads = aarhus.get("/v1/audit/citizen-reads?reader=buyer-tester", role="auditor").json()["reads"]
    assert {(r["resource"], r["citizen_ref"], r["municipality"]) for r in reads} == {
        ("/v1/buyers/751/citizens/A", "A", "751"), ("/v1/buyers/751/citizens", "A", "751"),
        ("/v1/buyers/751/citizens", "C", "751"), ("/v1/statements/751/2026/3/document", "A", "751"),
        ("/v1/statements/751/2026/3/document", "C", "751")}
    finance = aarhus.get("/v1/audit/citizen-reads?reader=admin-tester", role="auditor").json()["reads"]
    assert all(r["municipality"] is None for r in finance)


def test_the_statement_document_is_a_reproducible_pdf(aarhus):
    path = "/v1/statements/751/2026/3/document?as_of_position=11"
    first = aarhus.get(path, role="buyer")
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF-") and b"afregning-751-2026-03" in first.headers[
        "content-disposition"].encode()
    assert aarhus.get(path, role="finance").content == first.content
    text = pdf_text(first.content)
    for expected in ("Norddjurs Kommune (707)", "Aarhus Kommune (751)", "marts 2026", "01.03.2026 - 09.03.2026",
                     "Basistakst", "Servicetakst", "Døgnskema".lower(), "egenomsorg"):
        assert expected.lower() in text.lower(), expected
    total = Decimal(aarhus.get("/v1/statements/751/2026/3?as_of_position=11", role="buyer").json()["total"])
    assert f"{total:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") in text
    # a retroactive reassessment: the correction document shows exactly what changed
    assert aarhus.post("/v1/citizens/C/reassessments", {"effective_date": "2026-03-01",
                                                        "assessment": {"hours_per_day": "7"}},
                       role="caseworker").status_code == 201
    correction = aarhus.get("/v1/statements/751/2026/3/document?since_position=11", role="buyer")
    assert correction.status_code == 200
    fixed = pdf_text(correction.content)
    assert "Rettelse" in fixed and "Hvad er ændret" in fixed and "position 11" in fixed
    changes = fixed[fixed.index("Hvad er ændret"):fixed.index("Ophold i måneden")].splitlines()
    then, now = (aarhus.get(f"/v1/statements/751/2026/3{query}", role="buyer").json() for query in
                 ("?as_of_position=11", ""))
    amounts = [{line["citizen_ref"]: Decimal(line["amount"]) for line in s["lines"]} for s in (then, now)]
    assert amounts[0]["A"] == amounts[1]["A"] and amounts[0]["C"] != amounts[1]["C"]
    assert "C" in changes and "A" not in changes  # exactly the stay that changed
    for amount in (amounts[0]["C"], amounts[1]["C"]):
        assert danish(amount) in changes
    assert "+" + danish(amounts[1]["C"] - amounts[0]["C"]) in changes
    assert aarhus.get(path, role="buyer").content == first.content  # as of the point: still the same bytes
    assert aarhus.get("/v1/statements/751/2026/3/document?since_position=99&as_of_position=11",
                      role="buyer").status_code in (409, 422)
    assert aarhus.get("/v1/statements/751/2026/3/document?since_position=12&as_of_position=11",
                      role="buyer").status_code == 422


def test_buyer_tokens_are_bound_to_a_municipality_of_the_register(ledger):
    for role, municipality in (("buyer", None), ("buyer", "999"), ("buyer", "707"), ("buyer", "75"),
                               ("finance", "751")):
        with pytest.raises(ValueError):
            create_token(ledger.engine, role, "x", municipality)
    assert create_token(ledger.engine, "buyer", "randers", "730").startswith("lt_")


def test_a_buyer_token_of_another_municipality_sees_none_of_aarhus(aarhus, settings, ledger):
    randers = create_token(ledger.engine, "buyer", "randers-buyer", "730")
    with TestClient(create_app(settings, ledger), raise_server_exceptions=False) as client:
        other = Api(client, {"buyer": randers})
        assert other.get("/v1/buyers/751/citizens/A", role="buyer").status_code == 403
        mine = other.get("/v1/buyers/730/citizens/A", role="buyer").json()
        assert [(p["from"], p["to"]) for p in mine["periods"]][0] == ("2026-03-10", "2026-03-31")


def danish(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def pdf_text(content: bytes) -> str:
    """The text of an fpdf2 document's pages (Latin-1 text operators, their streams inflated).
    A stream is inflated from its start until zlib's own end, not up to "endstream": the
    compressed bytes may themselves end in a carriage return."""
    import re
    import zlib

    text = []
    for start in re.finditer(rb"(?<!end)stream\r?\n", content):
        inflate = zlib.decompressobj()
        try:
            data = inflate.decompress(content[start.end():])
        except zlib.error:
            data = content[start.end():content.find(b"endstream", start.end())]
        text += [m.decode("latin-1") for m in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", data, re.S)]
    return "\n".join(text).replace("\\(", "(").replace("\\)", ")")


def test_the_køberkommune_pages_show_only_the_buyers_own(aarhus):
    from tests.api.ui_session import log_in

    client = aarhus.client
    session = log_in(client, aarhus.tokens["buyer"])
    client.cookies.set("ledger_session", session)
    start = client.get("/ui", follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"] == "/ui/koeber"
    listing = client.get("/ui/koeber")
    assert listing.status_code == 200 and 'id="buyer-citizens"' in listing.text
    assert ">A<" in listing.text and ">B<" not in listing.text
    nav = listing.text.split('aria-label="Hovedmenu"')[1].split("</nav>")[0]
    assert "Køberkommune" in nav and "Oversigt" not in nav and "Borgere" not in nav
    early = client.get("/ui/koeber?as_of=4")  # "Opgjort pr." as a store position: before C was Aarhus'
    assert early.status_code == 200 and ">A<" in early.text and ">C<" not in early.text
    support = client.get("/ui/koeber/borger/A")
    assert support.status_code == 200
    assert "Egenomsorg" in support.text and "Mobilitet" in support.text and "Ændret fra døgnskemaet" in support.text
    assert client.get("/ui/koeber/borger/B").status_code == 404
    assert client.get("/ui/koeber/borger/NOBODY").status_code == 404
    assert client.get("/ui/koeber?municipality=730").status_code == 403
    statement = client.get("/ui/koeber/afregning?year=2026&month=3")
    assert statement.status_code == 200 and 'id="pdf-link"' in statement.text
    assert 'id="statements-of-year"' in statement.text and ">Januar<" in statement.text
    document = client.get("/ui/koeber/dokument/751/2026/3")
    assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
    assert client.get("/ui/koeber/dokument/730/2026/3").status_code == 403
    from service.ledger import BudgetLedger

    correction = client.get(f"/ui/koeber/dokument/751/2026/3?siden={BudgetLedger.today().isoformat()}")
    assert correction.status_code == 200 and "Rettelse" in pdf_text(correction.content)
    for page in ("/ui/oversigt", "/ui/borger/A", "/ui/afregning", "/ui/efterregulering", "/ui/tilbud/GRENAA-BO", "/ui/forklar"):
        assert client.get(page, follow_redirects=False).status_code == 403, page
    reads = aarhus.get("/v1/audit/citizen-reads?reader=buyer-tester", role="auditor").json()["reads"]
    assert {("/ui/koeber/borger/A", "751"), ("/ui/koeber", "751")} <= {(r["resource"], r["municipality"]) for r in reads}
    client.cookies.set("ledger_session", log_in(client, aarhus.tokens["finance"]))
    chosen = client.get("/ui/koeber?municipality=730")
    assert chosen.status_code == 200 and ">A<" in chosen.text and ">B<" in chosen.text
    assert client.get("/ui/koeber/borger/B?municipality=730").status_code == 200
    assert client.get("/ui/koeber/borger/B?municipality=751").status_code == 404
    assert 'id="statement-pdf"' in client.get("/ui/afregning?municipality=751&year=2026&month=3").text
    assert client.get("/ui/koeber/dokument/751/2026/3").headers["content-type"] == "application/pdf"


def test_stay_rows_stored_before_the_citizen_facts_ask_for_a_rebuild(aarhus, settings, ledger):
    """A stay row written before the rows held the move-out's kind and the assessments in
    force still serves the budgets; a citizen's reads answer 503 `read_models_outdated` naming
    `ledger rebuild` (no Retry-After: waiting does not help)
    (docs/adr/0035), and after the rebuild they read as before."""
    before = {path: aarhus.get(path).json() for path in ("/v1/citizens/A", "/v1/buyers/751/citizens/A")}
    with ledger.engine.begin() as connection:
        for row in connection.execute(select(rm_stays.c.stay_id, rm_stays.c.recorded_from, rm_stays.c.value)).all():
            old = {k: v for k, v in json.loads(row.value).items() if k not in ("move_out_kind", "assessments")}
            connection.execute(update(rm_stays).where(rm_stays.c.stay_id == row.stay_id,
                                                      rm_stays.c.recorded_from == row.recorded_from)
                               .values(value=json.dumps(old)))
    for path in before:
        refused = aarhus.get(path)
        problem = refused.json()
        assert refused.status_code == 503 and problem["rule"] == "read_models_outdated", refused.text
        assert "ledger rebuild" in problem["detail"] and "retry-after" not in refused.headers
    assert aarhus.get("/v1/buyers/751/citizens?year=2026").status_code == 200
    rebuilder = Projector(settings)
    rebuilder.rebuild()
    rebuilder.close()
    assert {path: aarhus.get(path).json() for path in before} == before


def test_every_statement_read_of_a_buyer_is_logged_with_its_municipality(aarhus):
    """The statement's reads the test above does not make: the JSON read and its export by the
    API, and the Køberkommune statement page and its PDF in the UI; each logs March's citizens
    of Aarhus (A and C) with 751, and no other citizen."""
    from tests.api.ui_session import log_in

    assert aarhus.get("/v1/statements/751/2026/3", role="buyer").status_code == 200
    assert aarhus.get("/v1/statements/751/2026/3/export", role="buyer").status_code == 200
    client = aarhus.client
    client.cookies.set("ledger_session", log_in(client, aarhus.tokens["buyer"]))
    assert client.get("/ui/koeber/afregning?year=2026&month=3").status_code == 200
    assert client.get("/ui/koeber/dokument/751/2026/3").status_code == 200
    client.cookies.clear()
    reads = aarhus.get("/v1/audit/citizen-reads?reader=buyer-tester", role="auditor").json()["reads"]
    logged = {(r["resource"], r["citizen_ref"], r["municipality"]) for r in reads}
    for resource in ("/v1/statements/751/2026/3", "/v1/statements/751/2026/3/export", "/ui/koeber/afregning",
                     "/ui/koeber/dokument/751/2026/3"):
        assert {(ref, m) for res, ref, m in logged if res == resource} == {("A", "751"), ("C", "751")}, resource
    assert {ref for _, ref, _ in logged} == {"A", "C"}


def test_the_køberkommune_list_shows_the_level_on_the_day_and_the_months_amount_so_far(aarhus):
    """D moves in on the first of this month, paid by Aarhus: the list shows D's level today
    and the month so far, today's day of the month × (basistakst + servicetakst), the rates of
    the month's statement line; the total row sums the rows."""
    import re
    from datetime import date

    from service.ledger import BudgetLedger
    from service.ui.formatting import kroner
    from tests.api.ui_session import log_in

    today = BudgetLedger.today()
    if today.year != 2026:  # the fixture's year has its schedule and frame already
        assert aarhus.put(f"/v1/tariff-schedules/{today.year}", schedule_body(), role="finance").status_code == 201
        assert aarhus.put(f"/v1/facilities/GRENAA-BO/frame-budgets/{today.year}", frame_body(),
                          role="finance").status_code == 201
    moved_in = aarhus.post("/v1/citizens/D/move-in", {
        "facility": "GRENAA-BO", "effective_date": date(today.year, today.month, 1).isoformat(),
        "paying_municipality": "751", "assessment": {"hours_per_day": "5"}}, role="caseworker")
    assert moved_in.status_code == 201, moved_in.text
    statement = aarhus.get(f"/v1/statements/751/{today.year}/{today.month}", role="buyer").json()
    line = next(line for line in statement["lines"] if line["citizen_ref"] == "D")
    period = line["periods"][0]
    so_far = today.day * (Decimal(line["basistakst"]) + Decimal(period["service_rate"]))
    client = aarhus.client
    client.cookies.set("ledger_session", log_in(client, aarhus.tokens["buyer"]))
    listing = client.get("/ui/koeber")
    client.cookies.clear()
    assert listing.status_code == 200
    row = re.search(r">D</a></td>(.*?)</tr>", listing.text, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[-2:] == [str(period["level"]), kroner(so_far)], cells
    total = re.search(r'id="month-to-date-total">([^<]*)<', listing.text).group(1)
    assert total == kroner(so_far)  # A and C are not Aarhus' this month
