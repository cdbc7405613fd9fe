"""The history's corrections (bench/generate.py), made the way a case worker makes them: find
the wrong event in the citizen's events (GET /v1/citizens/{ref}), retract it by its id and
record the right fact. The retractions and new facts are written as import lines and loaded
with `ledger import`, so they take the product's own path like the rest of the history."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx


class CorrectionNotFound(RuntimeError):
    """The event a correction names is not among the citizen's events: the generator and
    the ledger disagree about the history."""


def _lines(http: httpx.Client, correction: dict[str, Any]) -> list[str]:
    find = correction["find"]
    response = http.get(f"/v1/citizens/{find['citizen_ref']}")
    if response.status_code != 200:
        raise CorrectionNotFound(f"GET /v1/citizens/{find['citizen_ref']} answered {response.status_code}: "
                                 f"{response.text[:300]}")
    for row in response.json()["events"]:
        if (row["type"], row["effective_date"]) == (find["type"], find["effective_date"]) and not row["retracted"]:
            retraction = {"command": "retraction", "event_id": row["event_id"], "reason": correction["reason"]}
            return [json.dumps(c, ensure_ascii=False) for c in (retraction, *correction["then"])]
    raise CorrectionNotFound(f"no {find['type']} of {find['citizen_ref']} on {find['effective_date']} to correct")


def resolve(base: str, token: str, corrections: Path, out: Path, clients: int = 4) -> int:
    """Write the import lines of every correction to `out`; returns how many corrections."""
    with corrections.open(encoding="utf-8") as handle:
        wanted = [json.loads(line) for line in handle if line.strip()]
    clients_ = [httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
                for _ in range(clients)]
    try:
        with ThreadPoolExecutor(clients) as pool:
            resolved = list(pool.map(lambda i: _lines(clients_[i % clients], wanted[i]), range(len(wanted))))
    finally:
        for client in clients_:
            client.close()
    with out.open("w", encoding="utf-8") as handle:
        for lines in resolved:
            handle.writelines(line + "\n" for line in lines)
    return len(wanted)
