"""The auth throttle counts a failure of a token the store knows (revoked, or a wrong secret for
its id) against that token, so one job holding a revoked token does not lock out an office
behind one address; guesses (malformed tokens, ids never issued) still count per address."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth import create_token, revoke_tokens

OFFICE = ("10.1.2.3", 50000)
"""One public address: an office behind NAT."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def office(settings, ledger) -> TestClient:  # type: ignore[no-untyped-def]
    throttled = settings.model_copy(update={"auth_failure_limit": 3, "auth_failure_window_seconds": 600})
    return TestClient(create_app(throttled, ledger), raise_server_exceptions=False, client=OFFICE)


def test_a_revoked_token_is_throttled_alone_and_the_office_behind_its_address_keeps_working(settings, ledger, tokens):
    revoked = create_token(ledger.engine, "finance", "nightly-job")
    revoke_tokens(ledger.engine, "nightly-job")
    with office(settings, ledger) as client:
        statuses = [client.get("/v1/facilities", headers=bearer(revoked)).status_code for _ in range(6)]
        assert statuses == [401, 401, 401, 429, 429, 429]
        refused = client.get("/v1/facilities", headers=bearer(revoked))
        assert refused.json()["rule"] == "auth_throttled" and "with this token" in refused.json()["detail"]
        for role in ("finance", "caseworker", "auditor", "admin"):
            assert client.get("/v1/facilities", headers=bearer(tokens[role])).status_code == 200, role
        guess = "lt_" + "0" * 32 + "_" + "g" * 40
        assert client.get("/v1/facilities", headers=bearer(guess)).status_code == 401  # the address has no failure


def test_wrong_secrets_for_a_known_token_id_are_throttled_on_that_token(settings, ledger, tokens):
    token = tokens["caseworker"]
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with office(settings, ledger) as client:
        assert [client.get("/v1/facilities", headers=bearer(wrong)).status_code for _ in range(4)] == [401, 401, 401,
                                                                                                      429]
        assert client.get("/v1/facilities", headers=bearer(token)).status_code == 429  # the id is locked: no oracle
        assert client.get("/v1/facilities", headers=bearer(tokens["finance"])).status_code == 200


def test_guesses_still_lock_out_their_address_and_only_it(settings, ledger, tokens):
    guesses = ["lt_bogus", "lt_" + "f" * 32 + "_" + "x" * 40, "not-even-close"]
    with office(settings, ledger) as client:
        assert [client.get("/v1/facilities", headers=bearer(g)).status_code for g in guesses] == [401, 401, 401]
        refused = client.get("/v1/facilities", headers=bearer(tokens["finance"]))
        assert refused.status_code == 429 and "from this address" in refused.json()["detail"]
        elsewhere = TestClient(client.app, raise_server_exceptions=False, client=("10.9.9.9", 50000))
        assert elsewhere.get("/v1/facilities", headers=bearer(tokens["finance"])).status_code == 200
