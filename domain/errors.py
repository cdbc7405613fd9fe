"""Domain errors: every rule the ledger refuses to break raises one of these.

Each error names the rule it protects (a stable, machine-readable code), a message a person
can act on, and, where one input is at fault, the field.
"""


class DomainError(Exception):
    """Base of every error the domain raises."""

    def __init__(self, rule: str, message: str, field: str | None = None):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.field = field


class InvalidValue(DomainError):
    """A value is malformed or out of range (the request is wrong in itself)."""


class RuleViolation(DomainError):
    """A fact would contradict the facts already recorded (a conflict)."""


class NotFound(DomainError):
    """A facility, schedule, citizen or event the command names does not exist."""
