"""The history files of a scale and seed (bench/history.py), written as `ledger import` JSON
Lines and cached: `<scale>-<seed>-<fingerprint>.jsonl` with its corrections
(`.corrections.jsonl`: one line per correction, which event to find by citizen, type and
effective date, the reason, and the commands that record the right fact afterwards) and what
was written (`.meta.json`: commands, events, corrections). The fingerprint changes with the
generator's source (and the demo shapes it reuses), so a changed generator writes new files.
Lines are streamed to the file as they are made.

`python -m bench.generate SCALE [SEED] [DIR]` writes them without running a benchmark.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from service import demo

from bench import history, scales
from bench.history import Counts, History, events_of, reassessment_days
from bench.scales import SCALES, Scale

GENERATOR_VERSION = 1


def write(scale: Scale, seed: int, out: TextIO, corrections: TextIO) -> Counts:
    """Write the history's import commands to `out` and its corrections to `corrections`
    (one JSON object a line); returns what was written."""
    simulation = History(scale, seed)
    counts = simulation.counts
    for command in simulation.commands():
        out.write(json.dumps(command, ensure_ascii=False, separators=(",", ":")) + "\n")
        counts.commands += 1
        counts.events += events_of(command)
        counts.by_command[command["command"]] += 1
    for correction in simulation.corrections:
        corrections.write(json.dumps(correction, ensure_ascii=False, separators=(",", ":")) + "\n")
    return counts


def fingerprint() -> str:
    """Changes whenever the generator (or the demo shapes it reuses) changes: the cache key."""
    sources = [Path(__file__), Path(history.__file__), Path(scales.__file__), Path(demo.__file__)]
    return hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:10]


@dataclass(frozen=True)
class Generated:
    path: Path
    corrections: Path
    meta: dict[str, Any]


def generate(scale: Scale, seed: int, directory: Path) -> Generated:
    """The history's files in `directory`, generated unless already there for this
    scale, seed and generator."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{scale.name}-{seed}-{fingerprint()}"
    path, fixes, meta_path = (directory / f"{stem}.jsonl", directory / f"{stem}.corrections.jsonl",
                              directory / f"{stem}.meta.json")
    if meta_path.exists() and path.exists() and fixes.exists():
        return Generated(path, fixes, json.loads(meta_path.read_text()))
    partial, partial_fixes = path.with_suffix(".partial"), fixes.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out, partial_fixes.open("w", encoding="utf-8") as corrections:
        counts = write(scale, seed, out, corrections)
    partial.replace(path)
    partial_fixes.replace(fixes)
    meta = {"scale": scale.name, "seed": seed, "generator": GENERATOR_VERSION, "fingerprint": fingerprint(),
            "facilities": scale.facilities, "places": scale.places, "years": [scale.first_year, scale.last_year],
            "target_events": scale.target_events, "commands": counts.commands, "events": counts.events,
            "corrections": counts.corrections, "correction_events": counts.correction_events,
            "total_events": counts.events + counts.correction_events, "citizens": counts.citizens,
            "by_command": dict(sorted(counts.by_command.items())),
            "reassessment_days": round(reassessment_days(scale), 1)}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return Generated(path, fixes, meta)


def main() -> None:  # pragma: no cover - `python -m bench.generate SCALE [SEED] [DIR]`
    import sys

    scale = SCALES[sys.argv[1]]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    directory = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(__file__).parent / ".cache"
    generated = generate(scale, seed, directory)
    print(json.dumps(generated.meta, indent=2))
    print(generated.path)


if __name__ == "__main__":  # pragma: no cover
    main()
