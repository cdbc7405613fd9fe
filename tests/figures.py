"""Figures of the reliability tests' last run (requests fuzzed, races run, kills survived), for
docs/reliability.md: each test writes `var/test-figures/<name>.json` and prints it (`pytest -s`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIGURES = Path(__file__).resolve().parents[1] / "var" / "test-figures"


def record(name: str, **figures: Any) -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=1, sort_keys=True, default=str) + "\n")
    print(f"\nfigures {name}: {json.dumps(figures, sort_keys=True, default=str)}")
