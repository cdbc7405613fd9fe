"""The read benchmarks, one client after another request against a real `ledger serve`:

- budget: GET /v1/budgets/{code}/{year}?as_of=T, a random facility, year and instant;
- central: GET /v1/central/{year}, a random year as the store holds it now (quality.md asks
  the central model of a year; only the facility budget at a random as_of);
- central as of: GET /v1/central/{year}?as_of=T, informational: a random instant often comes
  before anything configured the year (beyond the projections' horizon), and such a year is
  computed from every stay of the municipality;
- explain: GET /v1/budgets/{code}/{year}/all/explain?from=T1&to=T2, a random facility-year
  between two random instants;
- regulation: GET /v1/regulation/{year} of a random closed year;
- what-if: POST /v1/regulation/{year}/what-if with a draft schedule 2 % above the year's.

The instants fall between the first and the last recording of the run (the whole history is
recorded during the run), so every read is as of a point inside the history.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

import httpx

from service import demo

from bench.load import Load, timed

SAMPLES = {"budget": 200, "central": 30, "central_as_of": 30, "explain": 60, "regulation": 5, "what_if": 5}
"""Requests per read at `--samples 1`."""
READ_TIMEOUT = 120.0
"""A read that takes longer is given up, counted as failed and kept at this time."""


def draft_schedule(year: int) -> dict[str, Any]:
    body = demo.schedule(year)
    for level in body["levels"]:
        level["daily_rate"] = str((Decimal(level["daily_rate"]) * Decimal("1.02")).quantize(Decimal("0.01")))
    return {k: v for k, v in body.items() if k not in ("command", "year", "reason")}


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.method} {response.request.url.path} answered "
                           f"{response.status_code}: {response.text[:300]}")


def measure_reads(base: str, token: str, facilities: list[str], years: tuple[int, int],
                  window: tuple[datetime, datetime], samples: float, seed: int,
                  names: tuple[str, ...] = tuple(SAMPLES)) -> dict[str, Load]:
    """Each read of `names` (all by default, in the order of `SAMPLES`), after one request of
    each first, timed at random facilities, years and instants of `window`."""
    rng = random.Random(seed)
    first_year, last_year = years
    closed = list(range(first_year, last_year)) or [first_year]
    start, end = window

    def moment() -> datetime:
        return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))

    def instant() -> str:
        return moment().isoformat()

    def between() -> dict[str, str]:
        earlier, later = sorted([moment(), moment()])
        return {"from": earlier.isoformat(), "to": later.isoformat()}

    def year() -> int:
        return rng.randint(first_year, last_year)

    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=READ_TIMEOUT)
    reads: dict[str, Callable[[int], None]] = {
        "budget": lambda _: _check(http.get(f"/v1/budgets/{rng.choice(facilities)}/{year()}",
                                            params={"as_of": instant()})),
        "central": lambda _: _check(http.get(f"/v1/central/{year()}")),
        "central_as_of": lambda _: _check(http.get(f"/v1/central/{year()}", params={"as_of": instant()})),
        "explain": lambda _: _check(http.get(f"/v1/budgets/{rng.choice(facilities)}/{year()}/all/explain",
                                             params=between())),
        "regulation": lambda _: _check(http.get(f"/v1/regulation/{rng.choice(closed)}")),
        "what_if": lambda _: _check(http.post(f"/v1/regulation/{(y := rng.choice(closed))}/what-if",
                                              json=draft_schedule(y))),
    }
    reads = {name: read for name, read in reads.items() if name in names}
    try:
        for read in reads.values():  # one request each first (connections, caches); failures show below
            try:
                read(0)
            except (RuntimeError, httpx.TimeoutException):
                pass
        return {name: timed(max(3, round(SAMPLES[name] * samples)), read, httpx.TimeoutException)
                for name, read in reads.items()}
    finally:
        http.close()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
