"""The step bar of the Køberkommune pages (issue 22.7, docs/adr/0045): for the buyer of Aarhus
(751), each page's previous and next positions are exactly the positions at which what the
page shows that buyer changed, read from the pages themselves at every position of the
history, on both stores; the bar never names an event's type or actor, and a position whose
event only touched another municipality's citizen is never named."""

from __future__ import annotations

import re
from typing import Any

from tests.api.test_buyers import aarhus  # noqa: F401  (the fixture: A, B, C as Aarhus, Randers and Norddjurs pay)
from tests.api.ui_session import log_in

_SECTION = re.compile(r'<section class="card(?! changed)[^"]*">.*?</section>', re.S)
_HREF = re.compile(r'href="[^"]*"')
_STEP = re.compile(r'id="step-(previous|next)" href="[^"]*?[?;]as_of=(\d+)')
_AT = re.compile(r'<span class="steps-at">Position (\d+)\.\s*(?:Senest ændret: <strong>[^<]*</strong> \(position (\d+))?')


def shown(response: Any) -> str | None:
    """What a page shows, without its point in time: its cards, links left out (they carry the
    point); None for a page that is not there (404)."""
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return "".join(_HREF.sub("", section) for section in _SECTION.findall(response.text))


def bar(response: Any) -> tuple[int | None, int | None, int | None]:
    """The bar's last change, previous link's position and next link's position."""
    if response.status_code != 200:
        return None, None, None
    links = dict(_STEP.findall(response.text))
    at = _AT.search(response.text)
    assert at, "the page has no step bar"
    last = int(at.group(2)) if at.group(2) else None
    return last, int(links["previous"]) if "previous" in links else None, int(links["next"]) if "next" in links else None


def check_walk(client: Any, path: str, latest: int) -> list[int]:
    """Read `path` as of every position: the bar's last change is the latest position at or
    before it where the page differs from the one before, the next the first after it; the
    previous link reads one before the last change, unless the page was not there then."""
    separator = "&" if "?" in path else "?"
    pages = [shown(client.get(f"{path}{separator}as_of={p}")) for p in range(latest + 1)]
    changes = [p for p in range(1, latest + 1) if pages[p] != pages[p - 1]]
    for p in range(latest + 1):
        response = client.get(f"{path}{separator}as_of={p}")
        if pages[p] is None:
            assert response.status_code == 404
            continue
        last, previous, following = bar(response)
        expected_last = max((c for c in changes if c <= p), default=None)
        expected_next = min((c for c in changes if c > p), default=None)
        assert (last, following) == (expected_last, expected_next), (path, p, changes)
        if expected_last is None or pages[expected_last - 1] is None:
            assert previous is None, (path, p)
        else:
            assert previous == expected_last - 1, (path, p)
    return changes


def positions_of(api: Any, citizen: str) -> set[int]:
    events = api.get(f"/v1/audit?citizen={citizen}&limit=200", role="auditor")
    assert events.status_code == 200, events.text
    return {event["position"] for event in events.json()["events"]}


def test_a_buyers_pages_step_to_exactly_the_events_that_changed_what_it_sees(aarhus):  # noqa: F811
    """On top of the fixture: another facility and its frame budget (nothing Aarhus pays for),
    a retraction of C's move-out (Aarhus pays again) and of B's move-in (Randers' citizen)."""
    from tests.factories import facility_body, frame_body

    assert aarhus.post("/v1/facilities", facility_body("AUNING-BO"), role="finance").status_code == 201
    assert aarhus.put("/v1/facilities/AUNING-BO/frame-budgets/2026", frame_body(), role="finance").status_code == 201
    for citizen, kind in (("C", "CitizenMovedOut"), ("B", "CitizenMovedIn")):
        events = aarhus.get(f"/v1/audit?citizen={citizen}&type={kind}", role="auditor").json()["events"]
        retracted = aarhus.post("/v1/retractions", {"event_id": events[0]["event_id"], "reason": "fejl"},
                                role="caseworker")
        assert retracted.status_code == 201, retracted.text
    latest = aarhus.get("/health").json()["position"]
    client = aarhus.client
    client.cookies.set("ledger_session", log_in(client, aarhus.tokens["buyer"]))
    b_only = positions_of(aarhus, "B") | {latest - 3, latest - 2}  # B's events, the other facility's
    for path in ("/ui/koeber", "/ui/koeber/borger/A", "/ui/koeber/borger/C",
                 "/ui/koeber/afregning?year=2026&month=3", "/ui/koeber/afregning?year=2026&month=1"):
        changes = check_walk(client, path, latest)
        assert changes and not set(changes) & b_only, (path, changes)
    a_after_randers = max(positions_of(aarhus, "A"))  # the reassessment of April, Randers paying
    support = check_walk(client, "/ui/koeber/borger/A", latest)
    assert a_after_randers not in support
    page = client.get("/ui/koeber/borger/A")
    steps = page.text.split('id="steps"')[1].split("</nav>")[0]
    assert "caseworker" not in steps and "tester" not in steps and "Revurdering" not in steps
    assert "Senest ændret: <strong>" in steps
    assert client.get("/ui/koeber/borger/B").status_code == 404  # no bar tells B from an unknown citizen
    assert client.get(f"/ui/koeber/borger/B?as_of={latest}").text == client.get(
        f"/ui/koeber/borger/NOBODY?as_of={latest}").text.replace("NOBODY", "B")


def test_finance_sees_the_same_bar_for_the_municipality_it_chooses(aarhus):  # noqa: F811
    latest = aarhus.get("/health").json()["position"]
    client = aarhus.client
    client.cookies.set("ledger_session", log_in(client, aarhus.tokens["finance"]))
    changes = check_walk(client, "/ui/koeber/borger/B?municipality=730", latest)
    assert set(changes) <= positions_of(aarhus, "B") | {1, 2, 3}
    page = client.get("/ui/koeber/borger/B?municipality=730&as_of=1")
    assert page.status_code == 404
