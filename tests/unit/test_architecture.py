"""Dependencies point inward: domain/ imports only itself and the eventsourcing library;
projections/ imports domain/; service/ may import both; and no module imports one that
imports it back. Every read goes through service/queries/ (docs/adr/0035): no module outside
the HTTP API imports it (the CLI starting the server excepted), a query imports no entry point,
and the HTTP layer's exception is named only inside it. The aggregate-replay reference
(tests/reference.py) is called by the tests only."""

import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = {"fastapi", "sqlalchemy", "psycopg", "pydantic", "pydantic_settings", "starlette", "alembic", "typer", "rich"}


@lru_cache(maxsize=None)
def _parsed(path: Path, modified: float) -> ast.Module:
    return ast.parse(path.read_text())


def syntax_tree(path: Path) -> ast.Module:
    """A file's syntax tree, parsed once. CPython 3.11's AST conversion keeps its recursion
    depth in shared state, so a parse while another thread of the test process converts an AST
    can fail with "AST constructor recursion depth mismatch"; the product's modules are
    therefore parsed when this test module is collected, before any test starts a thread."""
    return _parsed(path, path.stat().st_mtime)


for _package in ("domain", "projections", "service"):
    for _path in (ROOT / _package).rglob("*.py"):
        syntax_tree(_path)


def imports_of(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(syntax_tree(path)):
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


def module_imports() -> dict[str, set[str]]:
    """Every module of domain/, projections/ and service/ with the modules of ours it imports,
    at the top or inside a function (a cycle held together by an import in a function is still
    a cycle)."""
    modules = {}
    for package in ("domain", "projections", "service"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(syntax_tree(path)):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            found |= {target for target in targets if target in modules and target != name}
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_one_that_imports_it_back():
    graph = module_imports()
    assert "service.ledger" in graph["service.projection"]  # the graph sees our imports,
    assert "service.api.server" in graph["service.cli"]  # those inside a function too
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_and_only_it():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


API_USERS_ALLOWED = {("service.cli", "service.api.server")}
"""`ledger serve` starts the HTTP server: the one import of the API from outside it."""
ENTRY_POINTS = ("service.api", "service.ui", "service.cli", "service.export_cli", "service.import_cli")


def inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_nothing_outside_the_api_imports_it():
    graph = module_imports()
    found = {(name, target) for name, targets in graph.items() if not inside(name, "service.api")
             for target in targets if inside(target, "service.api")}
    assert found - API_USERS_ALLOWED == set()


def test_a_query_imports_no_entry_point():
    graph = module_imports()
    found = {(name, target) for name, targets in graph.items() if inside(name, "service.queries")
             for target in targets if any(inside(target, entry) for entry in ENTRY_POINTS)}
    assert found == set()


def names_in(path: Path) -> set[str]:
    """Every identifier a module names: imported, read as a name or as an attribute."""
    found = set()
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found |= {node.name.rpartition(".")[2], node.asname or ""}
    return found


def test_no_http_exception_outside_the_api():
    """Reads and commands raise domain errors (domain/errors.py, service.access.Forbidden,
    ProjectionLagging ...); only the API turns them into HTTP answers (service/api/problems.py)."""
    api = ROOT / "service" / "api"
    found = {str(path.relative_to(ROOT)) for package in ("domain", "projections", "service")
             for path in (ROOT / package).rglob("*.py")
             if api not in path.parents and "HTTPException" in names_in(path)}
    assert found == set()


def test_the_layer_tests_see_what_they_forbid(tmp_path):
    """The checks above read function-level imports and names too (as the cycle test does)."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from fastapi import HTTPException as Refused\n    raise Refused(404)\n")
    assert "HTTPException" in names_in(module)
    assert "service.api.server" in module_imports()["service.cli"]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (absolute names)."""
    found = set()
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


REFERENCE = ("tests", "reference_facility_year", "reference_statement_lines", "ReferenceReader", "stays_at")
"""The aggregate-replay reference (tests/reference.py) and its names."""
REPLAYING_READER = "service.readers"
"""Where the last aggregate-replay reader of production lived (docs/adr/0035, "Reads from the
read models only"): no module under service/ may import it again."""


def reference_users(root: Path) -> set[str]:
    """The production modules that import the reference or name its functions."""
    found = set()
    for path in (root / "service").rglob("*.py"):
        imported, names = imported_modules(path), names_in(path)
        if any(inside(module, "tests") for module in imported) or names & set(REFERENCE[1:]):
            found.add(str(path.relative_to(root)))
    return found


def test_no_production_path_calls_the_reference_reader():
    """The aggregate-replay reference lives in tests/ and only the tests call it; every read
    in service/ comes from the read models, none from a module that replays a citizen's stream."""
    assert reference_users(ROOT) == set()
    assert not (ROOT / "service" / "read_models.py").read_text().count("def reference_")
    replaying = {str(path.relative_to(ROOT)) for path in (ROOT / "service").rglob("*.py")
                 if any(inside(module, REPLAYING_READER) for module in imported_modules(path))}
    assert replaying == set(), replaying
    assert not (ROOT / "service" / "readers.py").exists()


def test_the_reference_check_sees_an_import_of_it(tmp_path):
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "m.py").write_text("def f():\n    from tests.reference import ReferenceReader\n")
    (tmp_path / "service" / "n.py").write_text("from service import read_models\nread_models.reference_facility_year\n")
    (tmp_path / "service" / "o.py").write_text("import service.read_models\n")
    assert reference_users(tmp_path) == {"service/m.py", "service/n.py"}
