"""Every command of the ledger, declared once: its fields (path parameters first, then the
body), its route, its name on an import line, the roles that may send it and its Danish label.

A declaration is at once the HTTP request (the route's path parameters plus `body_model()`),
the line of `ledger import` (`{"command": name, ...fields}`) and the web UI's form; the
ledger decides it with `BudgetLedger.handle(command, actor, idempotency)`. Roles are the
api.md table's; admin may do all. Bounds are domain §3's (service/commands/fields.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictInt, create_model

from domain.facility import KINDS as FACILITY_KINDS
from service.commands.fields import (
    Assessment,
    CaseRef,
    DailyRate,
    EffectiveDate,
    FrameLine,
    LevelIn,
    Municipality,
    NonNegativeAmount,
    OccupancyPercent,
    PhaseInPercent,
    Places,
    Reason,
    Reference,
    SpecialTariffDef,
    SpecialTariffGrant,
    Strict,
    Year,
)

@dataclass(frozen=True)
class CommandSpec:
    """How a command is reached and who may send it."""

    name: str
    """Its name on an import line (`{"command": "move-in", ...}`)."""
    method: Literal["POST", "PUT"]
    path: str
    """The route, with api.md's parameter names (`{code}`, `{year}`, `{ref}`)."""
    roles: tuple[str, ...]
    """The roles that may send it, besides admin."""
    label: str
    """Its Danish name on pages, forms and in the audit trail."""
    body_name: str
    """The name of its request body in the OpenAPI schema."""
    path_fields: dict[str, str] = field(default_factory=dict)
    """Path parameter -> the command's field it fills (`{"ref": "citizen_ref"}`)."""


class Command(Strict):
    """A command as a value: the fields of one request, validated by their declared bounds."""

    spec: ClassVar[CommandSpec]
    _bodies: ClassVar[dict[type, type[Strict]]] = {}

    @classmethod
    def body_model(cls) -> type[Strict]:
        """The HTTP request body: the command's fields without those of its path."""
        body = Command._bodies.get(cls)
        if body is None:
            path = set(cls.spec.path_fields.values())
            fields: dict[str, Any] = {name: (info.annotation, info) for name, info in cls.model_fields.items()
                                      if name not in path}
            body = create_model(cls.spec.body_name, __base__=Strict, __doc__=cls.__doc__, **fields)
            Command._bodies[cls] = body
        return body

    @classmethod
    def from_request(cls, body: Strict, **path: Any) -> "Command":
        """The command of a request whose body and path parameters are already validated."""
        values = {cls.spec.path_fields[name]: value for name, value in path.items()}
        return cls.model_construct(**values, **dict(body))

    def request_path(self) -> str:
        """The path of this command's HTTP request (`/v1/citizens/BOR-1/move-in`)."""
        return self.spec.path.format(**{name: getattr(self, field) for name, field in self.spec.path_fields.items()})

    def request_body(self) -> dict[str, Any]:
        """The JSON body of this command's HTTP request (its fields but the path's)."""
        return self.model_dump(mode="json", exclude=set(self.spec.path_fields.values()), exclude_none=True)


CITIZEN = {"ref": "citizen_ref"}
FACILITY = {"code": "code"}
FACILITY_YEAR = {"code": "code", "year": "year"}
YEAR = {"year": "year"}
FINANCE = ("finance",)
CASEWORKER = ("caseworker",)


class RegisterFacility(Command):
    """Register a facility with its places."""

    spec = CommandSpec("register-facility", "POST", "/v1/facilities", FINANCE, "Opret tilbud", "FacilityCreate")
    code: Reference
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal[FACILITY_KINDS]  # type: ignore[valid-type]
    area: Annotated[str, Field(min_length=1, max_length=100)]
    places: Places
    effective_date: EffectiveDate | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class ChangeCapacity(Command):
    """Change a facility's number of places from a date."""

    spec = CommandSpec("capacity", "POST", "/v1/facilities/{code}/capacity", FINANCE, "Ændr antal pladser",
                       "CapacityCreate", FACILITY)
    code: Reference
    effective_date: EffectiveDate
    places: Places
    reason: Reason = None
    case_ref: CaseRef = None


class SetFrameBudget(Command):
    """Set a facility's frame budget for a year: its lines by cost category."""

    spec = CommandSpec("frame-budget", "PUT", "/v1/facilities/{code}/frame-budgets/{year}", FINANCE,
                       "Rammebudget", "FrameBudgetPut", FACILITY_YEAR)
    code: Reference
    year: Year
    budgeted_places: Places
    planned_occupancy_pct: OccupancyPercent
    lines: Annotated[list[FrameLine], Field(min_length=1)]
    reason: Reason = None
    case_ref: CaseRef = None


class RecordAccounts(Command):
    """Record a facility's accounts for a year: this closes the year."""

    spec = CommandSpec("accounts", "POST", "/v1/facilities/{code}/accounts/{year}", FINANCE, "Regnskab (luk året)",
                       "AccountsCreate", FACILITY_YEAR)
    code: Reference
    year: Year
    actual_costs: NonNegativeAmount
    reason: Reason = None
    case_ref: CaseRef = None


class SetBaseline(Command):
    """Set a facility's baseline budget and phase-in for a year."""

    spec = CommandSpec("baseline", "PUT", "/v1/facilities/{code}/baselines/{year}", FINANCE, "Udgangsbudget",
                       "BaselinePut", FACILITY_YEAR)
    code: Reference
    year: Year
    baseline_budget: NonNegativeAmount
    phase_in_pct: PhaseInPercent
    reason: Reason = None
    case_ref: CaseRef = None


class PublishSchedule(Command):
    """Publish (or publish again) a year's tariff schedule: levels, special tariffs, hourly rate."""

    spec = CommandSpec("tariff-schedule", "PUT", "/v1/tariff-schedules/{year}", FINANCE, "Takstblad",
                       "SchedulePut", YEAR)
    year: Year
    levels: Annotated[list[LevelIn], Field(min_length=8, max_length=8)]
    special_tariffs: list[SpecialTariffDef] = []
    hourly_rate: DailyRate
    runoff_months: Annotated[StrictInt, Field(ge=0, le=12)] = 1
    reason: Reason = None
    case_ref: CaseRef = None

    def levels_for_domain(self) -> list[dict[str, Any]]:
        """The levels as the domain reads them (hours as text, so no float reaches it)."""
        return [{"level": l.level, "min_hours": str(l.min_hours), "max_hours": str(l.max_hours),
                 "daily_rate": l.daily_rate} for l in self.levels]


class ReviseRate(Command):
    """Revise one level's daily rate from a date within the schedule's year."""

    spec = CommandSpec("revision", "POST", "/v1/tariff-schedules/{year}/revisions", FINANCE, "Takstregulering",
                       "RevisionCreate", YEAR)
    year: Year
    effective_date: EffectiveDate
    level: Annotated[StrictInt, Field(ge=1, le=8)]
    daily_rate: DailyRate
    reason: Reason = None
    case_ref: CaseRef = None


class MoveIn(Command):
    """A citizen moves into a facility, assessed by a døgnskema (or hours per day)."""

    spec = CommandSpec("move-in", "POST", "/v1/citizens/{ref}/move-in", CASEWORKER, "Indflytning", "MoveInCreate",
                       CITIZEN)
    citizen_ref: Reference
    facility: Reference
    effective_date: EffectiveDate
    paying_municipality: Municipality
    assessment: Assessment
    special_tariff: SpecialTariffGrant | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class Reassess(Command):
    """A citizen's support is assessed again from a date."""

    spec = CommandSpec("reassessment", "POST", "/v1/citizens/{ref}/reassessments", CASEWORKER, "Revurdering",
                       "ReassessmentCreate", CITIZEN)
    citizen_ref: Reference
    effective_date: EffectiveDate
    assessment: Assessment
    special_tariff: SpecialTariffGrant | None = None
    reason: Reason = None
    case_ref: CaseRef = None


class GrantSpecialTariff(Command):
    """A citizen gets a special tariff (S1/S2) from a date; the reason is required."""

    spec = CommandSpec("special-tariff", "POST", "/v1/citizens/{ref}/special-tariff", CASEWORKER, "Særtakst",
                       "SpecialTariffCreate", CITIZEN)
    citizen_ref: Reference
    effective_date: EffectiveDate
    code: Literal["S1", "S2"]
    daily_rate: DailyRate
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    case_ref: CaseRef = None


class ChangePayingMunicipality(Command):
    """Another municipality pays for the citizen's stay from a date."""

    spec = CommandSpec("paying-municipality", "POST", "/v1/citizens/{ref}/paying-municipality", CASEWORKER,
                       "Skift betalingskommune", "PayingMunicipalityCreate", CITIZEN)
    citizen_ref: Reference
    effective_date: EffectiveDate
    paying_municipality: Municipality
    reason: Reason = None
    case_ref: CaseRef = None


class MoveOut(Command):
    """A citizen's stay ends on a date."""

    spec = CommandSpec("move-out", "POST", "/v1/citizens/{ref}/move-out", CASEWORKER, "Udflytning", "MoveOutCreate",
                       CITIZEN)
    citizen_ref: Reference
    effective_date: EffectiveDate
    kind: Literal["moved", "deceased", "transferred"]
    reason: Reason = None
    case_ref: CaseRef = None


class Retract(Command):
    """A wrong event stops counting; nothing is deleted. Case workers retract citizens' events,
    finance those of facilities and schedules."""

    spec = CommandSpec("retraction", "POST", "/v1/retractions", ("caseworker", "finance"), "Tilbagekald hændelse",
                       "RetractionCreate")
    event_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
                                   description="The id of the event to retract")]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    case_ref: CaseRef = None


COMMANDS: dict[str, type[Command]] = {command.spec.name: command for command in (
    RegisterFacility, ChangeCapacity, SetFrameBudget, RecordAccounts, SetBaseline, PublishSchedule, ReviseRate,
    MoveIn, Reassess, GrantSpecialTariff, ChangePayingMunicipality, MoveOut, Retract,
)}
"""Every command by its import name, in the order of api.md's table."""
