"""Crash safety (quality.md, Reliability), on both stores: SIGKILL at seeded random moments of
(a) `ledger serve` during a stream of commands, (b) `ledger import` mid-file and (c) `ledger
rebuild` mid-way, three times each. After every kill the chain verifies, stored events, index
rows and chain links are one to one, and every command is either wholly stored (all its events
and its Idempotency-Key) or not at all; after restarting, the client's retries with the same
Idempotency-Key and `ledger import --skip` finish the work exactly once, and the projections
equal a rebuild from scratch."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, inspect, select

from service.db import ledger_entries, make_engine, migrate
from service.ledger import BudgetLedger
from service.next_tables import SUFFIX
from service.projection import Projector, ProjectionStatus, make_view
from service.settings import Settings
from service.store import idempotency_key_hash
from tests.e2e.checks import assert_intact, assert_verify_passes, idempotency_responses
from tests.e2e.server import LEDGER, Server, ledger, ledger_env, token
from tests.e2e.test_projector_process import dump
from tests.factories import SPECIAL_TARIFFS, facility_body, frame_body, levels, schedule_body
from tests.figures import record

KILLS = 3


def reasons(settings: Settings) -> Counter[str]:
    """How many stored events carry each reason (every command of these tests has its own)."""
    app = BudgetLedger(settings)
    try:
        notifications = app.recorder.select_notifications(start=1, limit=10**9)
        return Counter(getattr(getattr(app.mapper.to_domain_event(n), "meta", None), "reason", None)
                       for n in notifications)
    finally:
        app.close()


def projections_equal_a_rebuild(settings: Settings) -> int:
    """Bring the projections up to date as a restarted projector does, then compare them with a
    rebuild from scratch, row for row; returns the number of rows."""
    followed = dump(settings)
    projector = Projector(settings)
    try:
        projector.rebuild()
    finally:
        projector.close()
    rebuilt = dump(settings)
    assert followed == rebuilt, sorted(set(followed) ^ set(rebuilt))[:5]
    return len(rebuilt)


def wait_until_caught_up(http: httpx.Client) -> None:
    deadline = time.monotonic() + 30
    while True:
        health = http.get("/health")
        if health.status_code == 200 and health.json()["projections"]["lag"] == 0:
            return
        assert time.monotonic() < deadline, health.text
        time.sleep(0.05)


# (a) ledger serve during a stream of commands ------------------------------------------------

def citizen_commands(rng: random.Random, citizens: int) -> list[list[dict[str, Any]]]:
    """Per citizen, in order: a move-in (some with a special tariff: two events), a reassessment,
    a change of paying municipality and a move-out."""
    plans = []
    for c in range(citizens):
        ref = f"CRASH-{c}"
        move_in = {"facility": "GRENAA-BO", "effective_date": f"2026-0{1 + c % 4}-1{c % 9}",
                   "paying_municipality": rng.choice(["707", "751"]), "assessment": {"hours_per_day": "4.5"}}
        if c % 3 == 0:
            move_in["special_tariff"] = {"code": "S1", "daily_rate": "6500.00"}
        plans.append([
            {"path": f"/v1/citizens/{ref}/move-in", "body": move_in, "events": 2 if c % 3 == 0 else 1},
            {"path": f"/v1/citizens/{ref}/reassessments", "events": 1,
             "body": {"effective_date": "2026-06-01", "assessment": {"hours_per_day": "7"}}},
            {"path": f"/v1/citizens/{ref}/paying-municipality", "events": 1,
             "body": {"effective_date": "2026-07-01", "paying_municipality": "751"}},
            {"path": f"/v1/citizens/{ref}/move-out", "events": 1,
             "body": {"effective_date": "2026-10-31", "kind": "moved"}},
        ])
    return plans


def test_sigkill_of_ledger_serve_during_commands_leaves_no_half_written_command(settings: Settings, tmp_path):
    rng = random.Random(20260101)
    case = token(settings, "caseworker", "crash-caseworker")
    admin = token(settings, "admin", "crash-admin")
    plans = citizen_commands(rng, 10)
    commands: list[dict[str, Any]] = []
    for n, command in enumerate(c for plan in plans for c in plan):
        command["key"] = command["body"]["reason"] = f"cmd-{n}"
        commands.append(command)
    lanes = [[c for i, plan in enumerate(plans) if i % 2 == lane for c in plan] for lane in (0, 1)]
    answers: dict[str, int] = {}
    sent = [0]
    lock = threading.Lock()

    def stream(server: Server, lane: list[dict[str, Any]]) -> None:
        with server.client(case, timeout=20) as http:
            for command in lane:
                if command["key"] in answers:
                    continue
                with lock:
                    sent[0] += 1
                try:
                    response = http.post(command["path"], json=command["body"],
                                         headers={"Idempotency-Key": command["key"]})
                except httpx.TransportError:
                    return  # the server is gone: this command and the rest wait for the restart
                assert response.status_code in (200, 201), response.text
                answers[command["key"]] = response.status_code

    def check_every_command_whole_or_absent() -> None:
        assert_intact(settings)
        stored, keys = reasons(settings), idempotency_responses(settings)
        for command in commands:
            count = stored[command["key"]]
            assert count in (0, command["events"]), (command, count)  # never half a command
            assert (count > 0) == (idempotency_key_hash(command["key"]) in keys), command  # its key with its events, or neither
            if command["key"] in answers:
                assert count == command["events"], command  # an answered command is stored

    kills = []
    server = Server(settings, tmp_path, "crash")
    try:
        with server.client(admin) as http:
            for method, path, body in (("POST", "/v1/facilities", facility_body("GRENAA-BO", places=40)),
                                       ("PUT", "/v1/tariff-schedules/2026", schedule_body()),
                                       ("PUT", "/v1/facilities/GRENAA-BO/frame-budgets/2026", frame_body())):
                assert http.request(method, path, json=body).status_code == 201
        for kill in range(KILLS + 1):
            threads = [threading.Thread(target=stream, args=(server, lane)) for lane in lanes]
            for thread in threads:
                thread.start()
            if kill < KILLS:
                remaining = len(commands) - len(answers)
                at = sent[0] + rng.randint(2, max(3, remaining // (KILLS - kill + 1)))
                while sent[0] < at and any(t.is_alive() for t in threads):
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.02))  # somewhere inside the commands in flight
                server.kill()
                kills.append({"after_commands_sent": sent[0], "answered": len(answers)})
            for thread in threads:
                thread.join(60)
            if kill < KILLS:
                check_every_command_whole_or_absent()
                server = Server(settings, tmp_path, f"crash-{kill}")  # the restart
                with server.client(admin) as http:
                    wait_until_caught_up(http)  # the projector resumed where it was
                    followed = dump(settings)
                    reset = make_view(settings)  # the read models emptied under the service: it projects them again
                    reset.reset()
                    reset.datastore.close()  # type: ignore[attr-defined]
                    wait_until_caught_up(http)  # the service's projector projects the whole store again
                    assert dump(settings) == followed
                kills[-1]["read_model_rows_equal_to_rebuild"] = len(followed)
        assert len(answers) == len(commands)  # every command answered in the end, retried with its key
        assert server.terminate() == 0
    finally:
        if server.process.poll() is None:
            server.kill()
    check_every_command_whole_or_absent()
    stored = reasons(settings)
    assert sum(stored[c["key"]] for c in commands) == sum(c["events"] for c in commands)
    assert_verify_passes(settings, tmp_path)
    projections_equal_a_rebuild(settings)  # the service stopped: a rebuild of its own
    record(f"crash-serve-{settings.store}", kills=len(kills), commands=len(commands),
           replayed_after_restart=sum(s == 200 for s in answers.values()), points=kills)


# (b) ledger import mid-file and (c) ledger rebuild mid-way -----------------------------------

def import_file(path: Path, citizens: int) -> int:
    """JSON Lines of a facility, a schedule and a move-in and a reassessment per citizen, each
    line with its own reason `line-N`; returns the number of lines."""
    lines: list[dict[str, Any]] = [
        {"command": "register-facility", **facility_body("IMPORT-BO", places=citizens), "effective_date": "2026-01-01"},
        {"command": "tariff-schedule", "year": 2026, "levels": levels(), "special_tariffs": SPECIAL_TARIFFS,
         "hourly_rate": "420.00", "runoff_months": 1},
    ]
    for c in range(citizens):
        ref = f"IMPORT-{c}"
        lines.append({"command": "move-in", "citizen_ref": ref, "facility": "IMPORT-BO",
                      "effective_date": f"2026-0{1 + c % 6}-{10 + c % 18}", "paying_municipality": "751",
                      "assessment": {"hours_per_day": ["1.5", "3", "4.5", "7"][c % 4]}})
        lines.append({"command": "reassessment", "citizen_ref": ref, "effective_date": "2026-08-01",
                      "assessment": {"hours_per_day": "5"}})
    for n, line in enumerate(lines, start=1):
        line["reason"] = f"line-{n}"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return len(lines)


def catch_up(settings: Settings) -> None:
    """What `ledger project` does, in process (a process start costs a second)."""
    projector = Projector(settings)
    try:
        projector.catch_up()
    finally:
        projector.close()


def wait_for_reset(rebuild: subprocess.Popen, engine: Any) -> None:
    """Wait until the rebuild has made its own tables (`_next`, docs/adr/0034; those of a
    killed rebuild count too) or has ended."""
    while not inspect(engine).has_table(f"rm_stays{SUFFIX}") and rebuild.poll() is None:
        time.sleep(0.005)


def stored_count(engine: Any) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(ledger_entries)).scalar()


def kill_when(process: subprocess.Popen, reached: Any, threshold: int) -> bool:
    """SIGKILL `process` as soon as `reached()` is at least `threshold`; False when it ended first."""
    while reached() < threshold:
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    return process.returncode == -signal.SIGKILL


def test_sigkill_of_ledger_import_and_of_ledger_rebuild_leaves_no_half_written_batch(settings: Settings, tmp_path):
    rng = random.Random(4711)
    batch = 10
    total = import_file(tmp_path / "commands.jsonl", 150)
    env = ledger_env(settings)
    migrate(settings)
    engine = make_engine(settings)
    import_kills: list[dict[str, int]] = []
    skip = 0
    try:
        for threshold in sorted(rng.sample(range(batch * 2, total - batch * 10), KILLS)):
            process = subprocess.Popen([LEDGER, "import", "commands.jsonl", "--batch-size", str(batch),
                                        "--skip", str(skip)], env=env, cwd=tmp_path,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert kill_when(process, lambda: stored_count(engine), threshold), "the import ended before the kill"
            assert_intact(settings)
            stored = reasons(settings)
            lines = sorted(int(reason.split("-")[1]) for reason in stored)
            assert lines == list(range(1, len(lines) + 1)), "the stored lines are not the file's first lines"
            assert all(count == 1 for count in stored.values())
            assert len(lines) % batch == 0, f"{len(lines)} lines stored: half a batch"
            import_kills.append({"threshold": threshold, "lines_stored_at_kill": len(lines)})
            skip = len(lines)  # what the audit trail's last reason tells an operator
        finished = ledger(settings, tmp_path, "import", "commands.jsonl", "--batch-size", str(batch),
                          "--skip", str(skip), check=False)
        assert finished.returncode == 0, finished.stderr
        assert reasons(settings) == Counter({f"line-{n}": 1 for n in range(1, total + 1)})
        assert_intact(settings)

        catch_up(settings)  # the projections of the whole import, as `ledger project` writes them
        followed = dump(settings)
        status = ProjectionStatus(settings)
        rebuild_kills: list[dict[str, Any]] = []
        try:
            projector = Projector(settings, batch_size=2000)  # as `ledger rebuild` does, timed
            try:
                emptied = time.monotonic()
                projector.rebuild()
                duration = time.monotonic() - emptied
            finally:
                projector.close()
            reference = dump(settings)
            assert followed == reference
            attempt = 0
            while sum(k["killed"] for k in rebuild_kills) < KILLS:
                attempt += 1
                assert attempt <= 2 * KILLS, rebuild_kills
                log = tmp_path / f"rebuild-{attempt}.log"
                with log.open("w") as output:
                    rebuild = subprocess.Popen([LEDGER, "rebuild"], env=env, cwd=tmp_path, stdout=output,
                                               stderr=output)
                    wait_for_reset(rebuild, engine)
                    time.sleep(rng.uniform(0, 0.9) * duration)  # somewhere while it projects the store again
                    rebuild.send_signal(signal.SIGKILL)
                    rebuild.wait(10)
                killed = rebuild.returncode == -signal.SIGKILL
                assert killed or rebuild.returncode == 0, log.read_text()
                if not killed:
                    duration /= 2  # it was quicker this time: aim earlier
                reached = status.reached()
                assert_intact(settings)  # and the projections are not ahead of the store
                catch_up(settings)  # a restarted projector resumes from the tracked position
                assert dump(settings) == reference
                rebuild_kills.append({"killed": killed, "tracked_at_kill": reached})
        finally:
            status.close()
    finally:
        engine.dispose()
    assert_verify_passes(settings, tmp_path)
    record(f"crash-import-rebuild-{settings.store}", import_lines=total, batch_size=batch,
           import_kills=import_kills, rebuild_kills=rebuild_kills, rebuild_seconds=round(duration, 2),
           read_model_rows=len(reference))
