"""Tariff schedules (takstmodel): the 8 tariff levels and 2 special tariffs of a year.

Rules (domain §3, §4.1, §4.3):
- one schedule per year; levels 1..8, contiguous half-open spans `[min_hours, max_hours)`
  from 0 hours up to at most 24, no gaps or overlaps; daily rates (servicetakst) and the
  hourly rate 0.01-100 000.00 kr.;
- publishing again replaces the year's schedule and its earlier revisions;
- a revision (*TariffRateRevised*) changes one level's daily rate from its effective date,
  within the year; on a day, the latest effective revision counts (then the latest recorded);
- hours at or above level 8's `max_hours` fall on no level: they need a special tariff (særtakst).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import event

from domain.errors import InvalidValue, RuleViolation
from domain.ledger import Entry, LedgerAggregate
from domain.values import MAX_HOURS_PER_DAY, Meta, check_daily_rate, check_in_year, check_no_cpr, check_year, hours, money

LEVELS = tuple(range(1, 9))
SPECIAL_TARIFF_CODES = ("S1", "S2")
_NAMESPACE = uuid.UUID("5b0c2a8e-4f0e-4a39-9c1c-7d7b3a5f0a01")


@dataclass(frozen=True)
class Level:
    level: int
    min_hours: Decimal
    max_hours: Decimal
    daily_rate: Decimal

    def holds(self, minutes: Decimal) -> bool:
        return self.min_hours * 60 <= minutes < self.max_hours * 60


def normalise_levels(levels: Any, field: str = "levels") -> list[dict[str, Any]]:
    """Check the 8 levels and return them in stored form (sorted by level)."""
    if not isinstance(levels, list) or len(levels) != len(LEVELS):
        raise InvalidValue("eight_levels", "a schedule has exactly 8 levels, numbered 1..8", field)
    rows = []
    for i, item in enumerate(levels):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise InvalidValue("invalid_level", "must be an object", where)
        number = item.get("level")
        if not isinstance(number, int) or isinstance(number, bool) or number not in LEVELS:
            raise InvalidValue("invalid_level", "level must be a whole number 1..8", f"{where}.level")
        low = hours(item.get("min_hours"), f"{where}.min_hours")
        high = hours(item.get("max_hours"), f"{where}.max_hours")
        rate = check_daily_rate(money(item.get("daily_rate"), f"{where}.daily_rate"), f"{where}.daily_rate")
        if high > MAX_HOURS_PER_DAY:
            raise InvalidValue("hours_out_of_range", f"hours per day are at most {MAX_HOURS_PER_DAY}",
                               f"{where}.max_hours")
        if low >= high:
            raise InvalidValue("empty_span", "min_hours must be below max_hours", f"{where}.max_hours")
        rows.append({"level": number, "min_hours": low, "max_hours": high, "daily_rate": rate})
    rows.sort(key=lambda r: r["level"])
    if [r["level"] for r in rows] != list(LEVELS):
        raise InvalidValue("eight_levels", "levels must be 1..8, each exactly once", field)
    if rows[0]["min_hours"] != 0:
        raise InvalidValue("starts_at_zero", "level 1 must start at 0 hours", f"{field}[level=1].min_hours")
    for below, above in zip(rows, rows[1:]):
        if below["max_hours"] != above["min_hours"]:
            kind = "gap" if below["max_hours"] < above["min_hours"] else "overlap"
            raise InvalidValue(
                f"levels_{kind}",
                f"level {below['level']} ends at {below['max_hours']} hours but level "
                f"{above['level']} starts at {above['min_hours']}: levels must be contiguous "
                "with no gaps or overlaps",
                f"{field}[level={above['level']}].min_hours",
            )
    return rows


def normalise_special_tariffs(items: Any, field: str = "special_tariffs") -> list[dict[str, str]]:
    if not isinstance(items, list):
        raise InvalidValue("invalid_special_tariffs", "must be a list", field)
    seen: list[dict[str, str]] = []
    for i, item in enumerate(items):
        code = item.get("code") if isinstance(item, dict) else None
        if code not in SPECIAL_TARIFF_CODES:
            raise InvalidValue("unknown_special_tariff", "code must be S1 or S2", f"{field}[{i}].code")
        if any(s["code"] == code for s in seen):
            raise InvalidValue("duplicate_special_tariff", f"{code} is listed twice", f"{field}[{i}].code")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue("name_required", "a special tariff needs a name", f"{field}[{i}].name")
        check_no_cpr(name, f"{field}[{i}].name")
        seen.append({"code": code, "name": name})
    return seen


class TariffSchedule(LedgerAggregate):
    """The tariff schedule of one year, with its publications and rate revisions."""

    @staticmethod
    def create_id(year: int, **_: Any) -> uuid.UUID:
        return schedule_id(year)

    @classmethod
    def publish_first(
        cls, year: int, levels: Any, special_tariffs: Any, hourly_rate: Any, runoff_months: Any, meta: Meta
    ) -> "TariffSchedule":
        fields = _checked_schedule(year, levels, special_tariffs, hourly_rate, runoff_months)
        return cls(year=year, meta=meta, **fields)

    @event("Published")
    def __init__(
        self, year: int, meta: Meta, levels: list, special_tariffs: list, hourly_rate: Decimal, runoff_months: int
    ) -> None:
        self.year = year
        self.publications: list[dict[str, Any]] = []
        self.revisions: list[dict[str, Any]] = []
        self._add_publication(meta, levels, special_tariffs, hourly_rate, runoff_months)

    def publish_again(
        self, levels: Any, special_tariffs: Any, hourly_rate: Any, runoff_months: Any, meta: Meta
    ) -> None:
        fields = _checked_schedule(self.year, levels, special_tariffs, hourly_rate, runoff_months)
        self._republished(meta=meta, **fields)

    @event("Republished")
    def _republished(
        self, meta: Meta, levels: list, special_tariffs: list, hourly_rate: Decimal, runoff_months: int
    ) -> None:
        self._add_publication(meta, levels, special_tariffs, hourly_rate, runoff_months)

    def _add_publication(self, meta: Meta, levels, special_tariffs, hourly_rate, runoff_months) -> None:
        self.publications.append(
            {
                "event_id": meta.event_id,
                "levels": [Level(**row) for row in levels],
                "special_tariffs": list(special_tariffs),
                "hourly_rate": hourly_rate,
                "runoff_months": runoff_months,
                "active": True,
            }
        )

    def revise(self, level: Any, daily_rate: Any, meta: Meta) -> None:
        """A tariff change within the year, from its effective date."""
        if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
            raise InvalidValue("invalid_level", "level must be a whole number 1..8", "level")
        rate = check_daily_rate(money(daily_rate, "daily_rate"), "daily_rate")
        check_in_year(meta.effective_date, self.year)
        self.check_is_published()
        self._revised(meta=meta, level=level, daily_rate=rate)

    @event("TariffRateRevised")
    def _revised(self, meta: Meta, level: int, daily_rate: Decimal) -> None:
        self.revisions.append(
            {
                "event_id": meta.event_id,
                "level": level,
                "daily_rate": daily_rate,
                "effective_date": meta.effective_date,
                "after_publication": len(self.publications),
                "active": True,
            }
        )

    # State ------------------------------------------------------------------------------

    @property
    def current(self) -> dict[str, Any] | None:
        """The publication in force: the latest one not retracted."""
        for publication in reversed(self.publications):
            if publication["active"]:
                return publication
        return None

    @property
    def is_published(self) -> bool:
        return self.current is not None

    def check_is_published(self) -> None:
        if not self.is_published:
            raise RuleViolation(
                "no_tariff_schedule", f"there is no tariff schedule for {self.year}", "effective_date"
            )

    @property
    def levels(self) -> list[Level]:
        self.check_is_published()
        return self.current["levels"]  # type: ignore[index]

    @property
    def hourly_rate(self) -> Decimal:
        self.check_is_published()
        return self.current["hourly_rate"]  # type: ignore[index]

    @property
    def runoff_months(self) -> int:
        self.check_is_published()
        return self.current["runoff_months"]  # type: ignore[index]

    @property
    def special_tariff_codes(self) -> list[str]:
        self.check_is_published()
        return [s["code"] for s in self.current["special_tariffs"]]  # type: ignore[index]

    def active_revisions(self) -> list[dict[str, Any]]:
        """Revisions recorded after the publication in force (earlier ones were replaced)."""
        current = self.current
        if current is None:
            return []
        number = self.publications.index(current) + 1
        return [r for r in self.revisions if r["active"] and r["after_publication"] >= number]

    def classify(self, minutes_per_day: Decimal) -> int | None:
        """The level whose span holds the time; None at or above level 8's max (særtakst)."""
        for level in self.levels:
            if level.holds(minutes_per_day):
                return level.level
        return None

    def rate_on(self, level: int, day: date) -> Decimal:
        """Servicetakst of `level` on `day`: the latest revision effective on or before the
        day (then the latest recorded), else the published rate."""
        rate = next(l.daily_rate for l in self.levels if l.level == level)
        candidates = [r for r in self.active_revisions() if r["level"] == level and r["effective_date"] <= day]
        if candidates:
            # Recording order is list order, so a stable sort keeps the latest recorded last.
            rate = sorted(candidates, key=lambda r: r["effective_date"])[-1]["daily_rate"]
        return rate

    # Retraction -------------------------------------------------------------------------

    def on_retracted(self, target: Entry) -> None:
        for item in self.publications + self.revisions:
            if item["event_id"] == target.event_id:
                item["active"] = False


TariffSchedule.Published.type_name = "TariffSchedulePublished"  # type: ignore[attr-defined]
TariffSchedule.Republished.type_name = "TariffSchedulePublished"  # type: ignore[attr-defined]


def schedule_id(year: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"tariff-schedule:{year}")


def _checked_schedule(year, levels, special_tariffs, hourly_rate, runoff_months) -> dict[str, Any]:
    check_year(year)
    rate = check_daily_rate(money(hourly_rate, "hourly_rate"), "hourly_rate")
    if not isinstance(runoff_months, int) or isinstance(runoff_months, bool) or not 0 <= runoff_months <= 12:
        raise InvalidValue("invalid_runoff_months", "runoff_months must be a whole number 0..12", "runoff_months")
    return {
        "levels": normalise_levels(levels),
        "special_tariffs": normalise_special_tariffs(special_tariffs),
        "hourly_rate": rate,
        "runoff_months": runoff_months,
    }
