"""A revoked token is refused on the very next request by every service process (docs/adr/0028):
two real `ledger serve` processes on one PostgreSQL store, the token revoked by `ledger token
revoke` while both have just served it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.settings import Settings
from tests.conftest import make_settings
from tests.e2e.server import Server, ledger, token
from tests.factories import facility_body, move_in_body, schedule_body


@pytest.fixture
def postgres_settings(tmp_path) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    yield from make_settings("postgresql", tmp_path)


def test_a_token_revoked_by_the_cli_is_refused_at_once_by_both_service_processes(postgres_settings, tmp_path):
    settings = postgres_settings
    user = token(settings, "admin", "revoked-soon")
    other = token(settings, "admin", "stays-live")
    with Server(settings, tmp_path, "a", LEDGER_PROJECTOR="external") as a, \
            Server(settings, tmp_path, "b", LEDGER_PROJECTOR="external") as b:
        first, second = a.client(user), b.client(user)
        facility = facility_body()["code"]
        assert first.post("/v1/facilities", json=facility_body(facility)).status_code == 201
        assert second.put("/v1/tariff-schedules/2026", json=schedule_body()).status_code == 201
        for index, client in enumerate((first, second, first, second)):  # both warm, both served the token
            assert client.post(f"/v1/citizens/C-{index}/move-in", json=move_in_body(facility)).status_code == 201
            assert client.get(f"/v1/facilities/{facility}").status_code == 200

        ledger(settings, tmp_path, "token", "revoke", "--name", "revoked-soon")

        for client in (second, first):
            write = client.post("/v1/citizens/C-9/move-in", json=move_in_body(facility))
            assert write.status_code == 401 and write.json()["rule"] == "token_invalid", write.text
            read = client.get(f"/v1/facilities/{facility}")
            assert read.status_code == 401 and read.json()["rule"] == "token_invalid", read.text
        for server in (a, b):  # the other token of the same processes is untouched
            assert server.client(other).get(f"/v1/facilities/{facility}").status_code == 200
        assert b.client(other).get("/v1/citizens/C-9").status_code == 404  # the refused move-in stored nothing
