"""The scales of quality.md: a municipality's size, the history's length and the number of
events the generated history aims at (bench/history.py tunes how often citizens are
reassessed to land near it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """A municipality's size and the history's length; `target_events` is what the history aims at."""

    name: str
    facilities: int
    places: int
    target_events: int
    first_year: int = 2017
    years: int = 10
    mean_stay_years: float = 3.0

    @property
    def last_year(self) -> int:
        return self.first_year + self.years - 1


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 3, 24, 300, first_year=2024, years=3),
    "norddjurs": Scale("norddjurs", 12, 154, 5_000),
    "large": Scale("large", 150, 3_000, 100_000),
    "national": Scale("national", 1_000, 25_000, 1_000_000),
}
"""`tiny` is for the smoke test; the others are quality.md's scales."""
