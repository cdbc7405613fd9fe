"""Commands (their declarations) as a case worker sends them: each client places fresh citizens, one after another,
through their move-in, a reassessment and a move-out (three requests a citizen), with an
Idempotency-Key on every request as the contract asks of clients.

`CommandClient` sends them to a real `ledger serve`; `LedgerClient` hands the same requests to
the product's `BudgetLedger` in the benchmark's own process (no HTTP, no token), to show how a
command's cost divides between the ledger's own work and the HTTP layer."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from service import demo
from service.commands.declarations import Command, MoveIn, MoveOut, Reassess

from bench.history import LEVEL_HOURS


class Requests:
    """The commands of one client, in order."""

    def __init__(self, facilities: list[str], prefix: str, year: int, seed: int) -> None:
        self.facilities, self.prefix, self.year = facilities, prefix, year
        self.rng = random.Random(seed)
        self.number, self.phase, self.day = 0, 0, date(year, 2, 1)

    def _assessment(self) -> dict[str, Any]:
        return demo.døgnskema(self.rng.choice(LEVEL_HOURS), self.rng)

    def next(self) -> Command:
        """The next command. A move-in is for a new citizen each time; the citizen moves on to
        the next phase only when `done` says the command was stored (as before: a failed
        request's phase is tried again)."""
        if self.phase == 0:
            self.number += 1
            self.day = date(self.year, 2, 1) + timedelta(days=self.rng.randint(0, 150))
            return MoveIn(citizen_ref=self.ref, facility=self.rng.choice(self.facilities), effective_date=self.day,
                          paying_municipality=self.rng.choice(["707", "707", "751"]), assessment=self._assessment())
        if self.phase == 1:
            return Reassess(citizen_ref=self.ref, effective_date=self.day + timedelta(days=30),
                            assessment=self._assessment(), reason="Revurdering")
        return MoveOut(citizen_ref=self.ref, effective_date=self.day + timedelta(days=60), kind="moved")

    def done(self) -> None:
        """The request from `next` was stored: the citizen's next phase comes next."""
        self.phase = (self.phase + 1) % 3

    @property
    def ref(self) -> str:
        return f"{self.prefix}-{self.number:06d}"


class CommandClient:
    """One HTTP client (keep-alive connection) of the command benchmark."""

    def __init__(self, base: str, token: str, facilities: list[str], prefix: str, year: int, seed: int) -> None:
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.requests = Requests(facilities, prefix, year, seed)

    def step(self) -> None:
        command = self.requests.next()
        path = command.request_path()
        response = self.http.post(path, json=command.request_body(), headers={"Idempotency-Key": str(uuid.uuid4())})
        if response.status_code != 201:
            raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text[:300]}")
        self.requests.done()

    def close(self) -> None:
        self.http.close()


class RefusedClient(CommandClient):
    """The HTTP floor: the same requests through a real `ledger serve`, each with an effective
    date that is not a date, so the service authenticates the token, reads and validates the
    body and answers 422 problem+json without asking the ledger anything."""

    def step(self) -> None:
        command = self.requests.next()
        path = command.request_path()
        response = self.http.post(path, json=command.request_body() | {"effective_date": "not-a-date"},
                                  headers={"Idempotency-Key": str(uuid.uuid4())})
        problem = response.json() if response.status_code == 422 else {}
        if problem.get("type") != "urn:ledger:problem:invalid_input" or \
                [error["field"] for error in problem.get("errors", [])] != ["effective_date"]:
            raise RuntimeError(f"POST {path} answered {response.status_code}, not 422 for the effective date alone: "
                               f"{response.text[:300]}")
        self.requests.done()


class LedgerClient:
    """The same requests handed to the product's `BudgetLedger` in this process: its rules, the
    idempotency record, the ledger index and the hash chain, without HTTP, token or projection."""

    def __init__(self, ledger: Any, facilities: list[str], prefix: str, year: int, seed: int) -> None:
        from service.ledger import Actor

        self.ledger, self.actor = ledger, Actor("bench-in-process", "caseworker")
        self.requests = Requests(facilities, prefix, year, seed)

    def step(self) -> None:
        from service.store import Idempotency, request_fingerprint

        command = self.requests.next()
        body = json.dumps(command.request_body()).encode()
        idempotency = Idempotency(self.actor.name, str(uuid.uuid4()),
                                  request_fingerprint("POST", command.request_path(), body))
        self.ledger.handle(command, self.actor, idempotency)
        self.requests.done()

    def close(self) -> None:
        pass
