"""Dependencies point inward: domain/ imports only itself and the eventsourcing library;
projections/ imports domain/; service/ may import both."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = {"fastapi", "sqlalchemy", "psycopg", "pydantic", "pydantic_settings", "starlette", "alembic", "typer", "rich"}


def imports_of(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(path.name, alias.name.split(".")[0]) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((path.name, node.module.split(".")[0]))
    return found


def test_domain_imports_nothing_of_ours_outside_it_and_no_framework():
    bad = {(f, m) for f, m in imports_of("domain") if m in FRAMEWORKS | {"projections", "service", "migrations"}}
    assert bad == set()


def test_projections_import_no_service_layer():
    bad = {(f, m) for f, m in imports_of("projections") if m in {"service", "fastapi", "starlette"}}
    assert bad == set()


def test_money_is_never_a_float_in_domain_or_projections():
    for package in ("domain", "projections"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            assert "float(" not in text and ": float" not in text, path
