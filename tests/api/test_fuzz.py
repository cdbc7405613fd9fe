"""Fuzzing the service's own OpenAPI schema (schemathesis) on both stores, bounded for the
suite: every operation with a valid token, no 5xx for anything a client sends, errors as
problem+json; afterwards no CPR-shaped value anywhere in the store's tables.

A longer run: LEDGER_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/api/test_fuzz.py
"""

from __future__ import annotations

import os
import re
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from sqlalchemy import inspect, text

from tests.api.test_worked_example import example  # noqa: F401
from tests.figures import record

EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "6"))
CPR = re.compile(rb"(?<![\w.-])\d{6}-\d{4}(?![\w.-])|(?<![\w.])\d{10}(?![\w.])")
"""DDMMYY-XXXX or ten digits standing alone (not inside an event id, a hash or an amount)."""


def test_no_request_makes_the_service_fail(api, example, ledger):  # noqa: F811
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    headers = {"Authorization": f"Bearer {api.tokens['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    fuzzed: Counter[int] = Counter()
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                             database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            fuzzed[response.status_code] += 1
            assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body,
                                                response.text[:300])
            if response.status_code >= 400:
                kind = response.headers.get("content-type")
                kind = kind[0] if isinstance(kind, list) else kind
                assert kind == "application/problem+json", response.text[:200]

        check()
    record(f"fuzz-{ledger.settings.store}", operations=len(operations), examples_per_operation=EXAMPLES,
           requests=sum(fuzzed.values()), by_status=dict(sorted(fuzzed.items())),
           server_errors=sum(n for status, n in fuzzed.items() if status >= 500))
    with ledger.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table in ("api_tokens", "idempotency_keys", "ledger_chain") or table.startswith("rm_"):
                continue  # hashes and salts are hex; read models hold figures in øre, no text
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    assert not CPR.search(raw), (table, raw[:200])
