"""Concurrency over real HTTP (quality.md, Reliability): threads racing on one citizen through a
real `ledger serve` get one success and 409s naming their rule, never a lost or duplicated event;
writers on different citizens all succeed; two `ledger serve` processes on one PostgreSQL schema,
each with its own projector, under load from this process stay correct, and their projections
equal a rebuild afterwards."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any, Callable

import httpx

from service.settings import Settings
from tests.conftest import require_postgres
from tests.e2e.checks import (
    assert_intact, assert_projections_equal_a_rebuild, assert_verify_passes, idempotency_responses, stored_event_ids,
)
from tests.e2e.server import Server, token
from tests.factories import facility_body, frame_body, move_in_body, schedule_body
from tests.figures import record

THREADS = 6
ROUNDS = 4
RACE_RULES = {"open_stay_exists", "concurrent_write", "outside_stay", "move_out_before_stay_events"}
"""The rules a losing racer may be refused with: the domain's, or the store's optimistic check."""


def setup(http: httpx.Client) -> list[str]:
    event_ids = []
    for method, path, body in (("POST", "/v1/facilities", facility_body("GRENAA-BO", places=200)),
                               ("PUT", "/v1/tariff-schedules/2026", schedule_body()),
                               ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body())):
        response = http.request(method, path, json=body)
        assert response.status_code == 201, response.text
        event_ids += response.json()["event_ids"]
    return event_ids


def race(clients: list[httpx.Client], calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls at the same moment, each on a client (a connection) of its own."""
    barrier = threading.Barrier(len(calls))
    responses: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        responses[i] = calls[i](clients[i % len(clients)])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def one_winner(responses: list[httpx.Response], rules: Counter[str]) -> httpx.Response:
    """Exactly one 201; every other racer 409 as problem+json naming a race rule (counted in `rules`)."""
    statuses = Counter(r.status_code for r in responses)
    assert statuses[201] == 1 and statuses[409] == len(responses) - 1, [(r.status_code, r.text) for r in responses]
    losers(responses, rules)
    return next(r for r in responses if r.status_code == 201)


def losers(responses: list[httpx.Response], rules: Counter[str]) -> None:
    for loser in (r for r in responses if r.status_code == 409):
        problem = loser.json()
        assert problem["rule"] in RACE_RULES and loser.headers["content-type"] == "application/problem+json", problem
        rules[problem["rule"]] += 1


def test_writers_racing_on_one_citizen_over_http_get_one_success_and_409s(settings: Settings, tmp_path):
    admin, case = token(settings, "admin", "race-admin"), token(settings, "caseworker", "race-caseworker")
    recorded: list[str] = []
    rules: Counter[str] = Counter()
    races = same_key_409 = 0
    with Server(settings, tmp_path) as server:
        with server.client(admin) as http:
            recorded += setup(http)
        clients = [server.client(case) for _ in range(THREADS)]
        try:
            for client in clients:
                client.get("/health/live")  # open each connection before the races
            for n in range(ROUNDS):
                ref = f"RACE-IN-{n}"
                won = one_winner(race(clients, [
                    lambda c, day=day: c.post(f"/v1/citizens/{ref}/move-in",
                                              json=move_in_body("GRENAA-BO", day=f"2026-03-{day:02d}"))
                    for day in range(10, 10 + THREADS)]), rules)
                recorded += won.json()["event_ids"]
                events = clients[0].get(f"/v1/citizens/{ref}").json()["events"]
                assert [e["event_id"] for e in events] == won.json()["event_ids"]

                ref = f"RACE-OUT-{n}"
                moved = clients[0].post(f"/v1/citizens/{ref}/move-in", json=move_in_body("GRENAA-BO"))
                recorded += moved.json()["event_ids"]
                responses = race(clients[:2], [
                    lambda c: c.post(f"/v1/citizens/{ref}/move-out", json={"effective_date": "2026-06-30",
                                                                           "kind": "moved"}),
                    lambda c: c.post(f"/v1/citizens/{ref}/reassessments", json={
                        "effective_date": "2026-08-01", "assessment": {"hours_per_day": "7"}}),
                ])
                won = one_winner(responses, rules)
                recorded += won.json()["event_ids"]
                events = clients[0].get(f"/v1/citizens/{ref}").json()["events"]
                assert [e["event_id"] for e in events] == moved.json()["event_ids"] + won.json()["event_ids"]

                ref = f"RACE-KEY-{n}"
                body = move_in_body("GRENAA-BO")
                responses = race(clients, [lambda c: c.post(f"/v1/citizens/{ref}/move-in", json=body,
                                                             headers={"Idempotency-Key": f"key-{ref}"})] * THREADS)
                statuses = Counter(r.status_code for r in responses)
                # One 201; every other racer gets the first response again, also one that checked for
                # its key before the winner stored it (the ledger looks again before refusing).
                assert statuses[201] == 1 and statuses[200] == THREADS - 1, (statuses, [r.text for r in responses])
                same_key_409 += statuses[409]
                first = next(r for r in responses if r.status_code == 201).json()
                assert all(r.json() == first for r in responses if r.status_code == 200)  # the first response again
                for _ in range(statuses[409]):  # a 409 racer retries with its key: the first response, replayed
                    again = clients[0].post(f"/v1/citizens/{ref}/move-in", json=body,
                                            headers={"Idempotency-Key": f"key-{ref}"})
                    assert again.status_code == 200 and again.json() == first, again.text
                recorded += first["event_ids"]
                assert len(clients[0].get(f"/v1/citizens/{ref}").json()["events"]) == 1
                races += 3

            refs = [[f"CROWD-{t}-{i}" for i in range(5)] for t in range(THREADS)]
            outcomes = race(clients, [
                lambda c, mine=mine: [c.post(f"/v1/citizens/{r}/move-in", json=move_in_body("GRENAA-BO")) for r in mine]
                for mine in refs])
            crowd = [response for batch in outcomes for response in batch]
            assert [r.status_code for r in crowd] == [201] * len(crowd), [r.text for r in crowd if r.status_code != 201]
            recorded += [e for r in crowd for e in r.json()["event_ids"]]
        finally:
            for client in clients:
                client.close()
        assert server.terminate() == 0
    stored = stored_event_ids(settings)
    assert sorted(stored) == sorted(recorded) and len(set(stored)) == len(stored)  # none lost, none twice
    assert len(idempotency_responses(settings)) == ROUNDS
    assert assert_intact(settings) == len(recorded)  # the verify of `ledger verify`, in process
    record(f"races-{settings.store}", races=races, racers_per_race=THREADS, writers_on_different_citizens=len(crowd),
           events_stored=len(stored), losers_by_rule=dict(rules), same_key_racers_answered_409=same_key_409)


def test_two_services_on_one_postgresql_schema_stay_correct_under_load(tmp_path):
    require_postgres()
    from tests.conftest import make_settings

    schema = make_settings("postgresql", tmp_path)
    settings = next(schema)
    try:
        check_two_services(settings, tmp_path)
    finally:
        next(schema, None)


def check_two_services(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin, case = token(settings, "admin", "load-admin"), token(settings, "caseworker", "load-caseworker")
    rng = random.Random(8)
    recorded: list[str] = []
    answers: Counter[str] = Counter()
    lock = threading.Lock()
    pools = {"LEDGER_POOL_SIZE": "2", "LEDGER_POOL_MAX_OVERFLOW": "3"}  # 6 pools of at most 5 connections each
    a = Server(settings, tmp_path, "serve-a", **pools)  # each process with its own projector (the default)
    b = Server(settings, tmp_path, "serve-b", **pools)
    try:
        with a.client(admin) as http:
            recorded += setup(http)
        plans = [[rng.choice(["2026-02-01", "2026-03-15", "2026-05-01"]) for _ in range(4)] for _ in range(8)]

        failures: list[BaseException] = []

        def worker(t: int, plan: list[str]) -> None:
            try:
                work(t, plan)
            except BaseException as error:  # noqa: BLE001 - asserted in the test's thread
                failures.append(error)

        def work(t: int, plan: list[str]) -> None:
            mine, other = (a, b) if t % 2 else (b, a)
            with mine.client(case) as c, other.client(admin) as reader:
                for i, day in enumerate(plan):
                    ref = f"LOAD-{t}-{i}"
                    steps = [("move-in", move_in_body("GRENAA-BO", day=day, payer=rng_payer(t, i))),
                             ("reassessments", {"effective_date": "2026-06-01", "assessment": {"hours_per_day": "6"}}),
                             ("paying-municipality", {"effective_date": "2026-07-01", "paying_municipality": "751"}),
                             ("move-out", {"effective_date": "2026-10-31", "kind": "moved"})]
                    for command, body in steps[: 2 + (t + i) % 3]:
                        response = c.post(f"/v1/citizens/{ref}/{command}", json=body)
                        assert response.status_code == 201, response.text
                        with lock:
                            recorded.extend(response.json()["event_ids"])
                            answers["commands"] += 1
                    position = response.json()["position"]  # read it back through the other process
                    seen = reader.get(f"/v1/budgets/GRENAA-BO/2026", params={"as_of_position": position})
                    assert seen.status_code == 200 and seen.json()["as_of_position"] == position, seen.text
                    shared = f"SHARED-{t // 2}-{i}"  # the pair of threads race one citizen, one through each process
                    raced = c.post(f"/v1/citizens/{shared}/move-in", json=move_in_body("GRENAA-BO"))
                    with lock:
                        answers[f"shared {raced.status_code}"] += 1
                        answers["commands"] += 1
                        if raced.status_code == 201:
                            recorded.extend(raced.json()["event_ids"])
                        else:
                            assert raced.status_code == 409 and raced.json()["rule"] in RACE_RULES, raced.text

        threads = [threading.Thread(target=worker, args=(t, plan)) for t, plan in enumerate(plans)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not failures and not any(thread.is_alive() for thread in threads), failures
        assert answers["shared 201"] == 4 * 4 and answers["shared 409"] == 4 * 4, answers  # one per shared citizen

        with a.client() as anyone:
            final = anyone.get("/health").json()["position"]
        reads = {}
        for server in (a, b):
            with server.client(admin) as http:
                reads[server.port] = [http.get(path, params={"as_of_position": final}).json() for path in (
                    "/v1/budgets/GRENAA-BO/2026", "/v1/central/2026", "/v1/statements/751/2026/9",
                    "/v1/citizens/SHARED-0-0")]
        assert reads[a.port] == reads[b.port]  # the same answers from either process
        conflicts = sum(log.count("projection batch failed") for log in (a.log(), b.log()))
        assert a.terminate() == 0 and b.terminate() == 0
    finally:
        for server in (a, b):
            if server.process.poll() is None:
                server.kill()
    stored = stored_event_ids(settings)
    assert sorted(stored) == sorted(recorded) and len(set(stored)) == len(stored)
    assert assert_intact(settings) == len(recorded)
    assert_verify_passes(settings, tmp_path)
    rows = assert_projections_equal_a_rebuild(settings, tmp_path)  # `ledger rebuild`
    record("two-services-postgresql", threads=len(plans), commands=answers["commands"],
           events_stored=len(stored), shared_citizen_races=answers["shared 201"],
           projector_conflicts_recovered=conflicts, read_model_rows_equal_to_rebuild=rows)


def rng_payer(t: int, i: int) -> str:
    return "751" if (t + i) % 2 else "707"
