"""Every command is declared once and reachable everywhere a command is sent: its route (with
its declared roles), its import name, its use case, its row of the access matrix and its
Danish label. A new command that lacks any of these fails here."""

from __future__ import annotations

import json
from datetime import date

import pytest

from service.api.app import create_app
from service.commands.declarations import COMMANDS, Command, MoveIn
from service.importer import LineRefused, decide_line
from service.ledger import _HANDLERS, Actor
from tests.api.test_access import ENDPOINTS

OPENAPI = create_app().openapi()


def _declared() -> list[type[Command]]:
    found, pending = [], list(Command.__subclasses__())
    while pending:
        command = pending.pop()
        found.append(command)
        pending.extend(command.__subclasses__())
    return found


def test_every_declared_command_is_registered_under_its_own_name():
    assert sorted(c.__name__ for c in _declared()) == sorted(c.__name__ for c in COMMANDS.values())
    assert all(name == command.spec.name for name, command in COMMANDS.items())


@pytest.mark.parametrize("command", COMMANDS.values(), ids=list(COMMANDS))
def test_a_command_has_its_route_use_case_access_row_and_danish_label(command: type[Command]):
    spec = command.spec
    operation = OPENAPI["paths"].get(spec.path, {}).get(spec.method.lower())
    assert operation is not None, f"{spec.name} has no route {spec.method} {spec.path}"
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body == f"#/components/schemas/{spec.body_name}"
    assert set(OPENAPI["components"]["schemas"][spec.body_name]["properties"]) == \
        set(command.model_fields) - set(spec.path_fields.values())
    assert {f"{{{name}}}" for name in spec.path_fields} == {part for part in spec.path.split("/") if "{" in part}
    assert set(spec.path_fields.values()) <= set(command.model_fields), "a path parameter fills no field"

    assert command in _HANDLERS, f"{spec.name} has no use case in BudgetLedger"

    row = ENDPOINTS.get((spec.method, spec.path))
    assert row is not None, f"{spec.name} has no row in the access matrix (tests/api/test_access.py)"
    assert row[1] == {"admin", *spec.roles}, f"{spec.name}: the access matrix and the declaration disagree"

    assert spec.label.strip() and spec.label[0].isupper(), f"{spec.name} has no Danish label"


def test_labels_and_import_names_are_unique():
    assert len({c.spec.label for c in COMMANDS.values()}) == len(COMMANDS)
    assert len({c.spec.body_name for c in COMMANDS.values()}) == len(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_an_import_line_reaches_the_declaration_by_its_name(name: str):
    """A line with only the command's name is refused for a missing field of that command,
    not as an unknown command."""
    with pytest.raises(LineRefused) as refused:
        decide_line(None, 1, json.dumps({"command": name}), Actor("importer", "admin"))  # type: ignore[arg-type]
    assert refused.value.rule in ("required", "invalid_input")
    assert refused.value.field in COMMANDS[name].model_fields


def test_a_command_is_its_http_request():
    move_in = MoveIn(citizen_ref="BOR-1", facility="GRENAA-BO", effective_date=date(2026, 3, 1),
                     paying_municipality="751", assessment={"hours_per_day": "4.5"})
    assert move_in.request_path() == "/v1/citizens/BOR-1/move-in"
    body = move_in.request_body()
    assert "citizen_ref" not in body and body["effective_date"] == "2026-03-01"
    assert MoveIn.from_request(MoveIn.body_model().model_validate(body), ref="BOR-1") == move_in
