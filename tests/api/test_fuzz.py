"""Fuzzing the service's own OpenAPI schema (schemathesis) on both stores: every operation with
a valid token, with data that fits the schema and data that does not; no 5xx for anything a client sends, and every response conforms to the schema
(its status is documented for the operation, its content type too, its body matches the
documented schema: errors are the `Problem` of problem+json); afterwards no CPR-shaped value
anywhere in the store's tables.

The run is made with an admin token and again with the `buyer` token of Aarhus (a third of the
examples: most of its requests are refused with 403, which must conform too).

`LEDGER_FUZZ_EXAMPLES` examples per operation: 12 in the suite, 200 in `make fuzz` (the bar of
issue 21, about ten minutes for both stores on a 2-core machine: too long for every run;
docs/reliability.md keeps its figures). Failures are collected over the whole run and reported
together, each with its curl line.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis.strategies import one_of
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)
from sqlalchemy import inspect, text
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.api.test_worked_example import example  # noqa: F401
from tests.figures import record

EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CPR = re.compile(rb"(?<![\w.-])\d{6}-\d{4}(?![\w.-])|(?<![\w.])\d{10}(?![\w.])")
"""DDMMYY-XXXX or ten digits standing alone (not inside an event id, a hash or an amount)."""


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app as schemathesis reaches it: its lifespan (the store, the embedded projector) is
    the test client's, already running; a second one would start a second projector."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return serve


def test_no_request_makes_the_service_fail(api, example, ledger):  # noqa: F811
    app = api.client.app
    # a read as of a position not reached yet waits before its 409 (test_worked_example proves
    # both); here it answers at once, so the run's time goes to requests rather than waits
    app.state.settings = app.state.settings.model_copy(update={"future_position_wait_seconds": 0.0})
    schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    fuzzed: Counter[int] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    runs = [(role, examples, operation) for role, examples in (("admin", EXAMPLES), ("buyer", max(3, EXAMPLES // 3)))
            for operation in operations]
    for role, examples, operation in runs:
        headers = {"Authorization": f"Bearer {api.tokens[role]}"}

        @given(case=one_of(operation.as_strategy(GenerationMode.POSITIVE),
                           operation.as_strategy(GenerationMode.NEGATIVE)))
        @hypothesis_settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                             database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            fuzzed[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as failed:
                failures.append(f"{role}: {case.method} {operation.path} -> {response.status_code}: {failed}"[:1500])

        check()
    seconds = time.monotonic() - started
    record(f"fuzz-{ledger.settings.store}", operations=len(operations), examples_per_operation=EXAMPLES,
           requests=sum(fuzzed.values()), by_status=dict(sorted(fuzzed.items())), seconds=round(seconds, 1),
           server_errors=sum(n for status, n in fuzzed.items() if status >= 500), failures=len(failures))
    assert not failures, "\n\n".join(failures[:20])
    with ledger.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table in ("api_tokens", "idempotency_keys", "ledger_chain") or table.startswith("rm_"):
                continue  # hashes and salts are hex; read models hold figures in øre, no text
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    assert not CPR.search(raw), (table, raw[:200])
