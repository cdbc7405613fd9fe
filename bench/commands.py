"""Commands through a real `ledger serve`: each client places fresh citizens, one after
another, through their move-in, a reassessment and a move-out (three requests a citizen),
with an Idempotency-Key on every request as the contract asks of clients."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from service import demo

from bench.history import LEVEL_HOURS


class CommandClient:
    """One HTTP client (keep-alive connection) of the command benchmark."""

    def __init__(self, base: str, token: str, facilities: list[str], prefix: str, year: int, seed: int) -> None:
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.facilities, self.prefix, self.year = facilities, prefix, year
        self.rng = random.Random(seed)
        self.number, self.phase, self.day = 0, 0, date(year, 2, 1)

    def _assessment(self) -> dict[str, Any]:
        return demo.døgnskema(self.rng.choice(LEVEL_HOURS), self.rng)

    def step(self) -> None:
        if self.phase == 0:
            self.number += 1
            self.day = date(self.year, 2, 1) + timedelta(days=self.rng.randint(0, 150))
            path, body = f"/v1/citizens/{self.ref}/move-in", {
                "facility": self.rng.choice(self.facilities), "effective_date": self.day.isoformat(),
                "paying_municipality": self.rng.choice(["707", "707", "751"]), "assessment": self._assessment()}
        elif self.phase == 1:
            path, body = f"/v1/citizens/{self.ref}/reassessments", {
                "effective_date": (self.day + timedelta(days=30)).isoformat(), "assessment": self._assessment(),
                "reason": "Revurdering"}
        else:
            path, body = f"/v1/citizens/{self.ref}/move-out", {
                "effective_date": (self.day + timedelta(days=60)).isoformat(), "kind": "moved"}
        response = self.http.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        if response.status_code != 201:
            raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text[:300]}")
        self.phase = (self.phase + 1) % 3

    @property
    def ref(self) -> str:
        return f"{self.prefix}-{self.number:06d}"

    def close(self) -> None:
        self.http.close()
