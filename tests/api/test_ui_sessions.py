"""The web UI's server-side sessions and CSRF protection over plain HTTP, on both stores
(docs/adr/0022): the cookie holds a random id and the store only its hash; log-out, idle time,
the absolute end and a revoked token end a session; every UI POST needs the form's token and
the UI's own origin, the log-in form included (log-in CSRF). The browser's side of the same:
tests/e2e/test_web_ui.py."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.app import create_app
from service.auth import create_token, revoke_tokens
from service.db import ui_sessions
from service.settings import Settings
from service.ui import ROUTERS
from tests.api.ui_session import ORIGIN, form_token, log_in, post_log_in, session_header, set_cookies

REFUSED = "Formularen blev afvist"


def client_with(settings: Settings, ledger, **update: float) -> TestClient:  # type: ignore[no-untyped-def]
    roomy = settings.model_copy(update={"auth_failure_limit": 10_000, **update})
    return TestClient(create_app(roomy, ledger), raise_server_exceptions=False)


@pytest.fixture
def client(settings, ledger) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with client_with(settings, ledger) as test_client:
        yield test_client


def rows(ledger) -> list:  # type: ignore[no-untyped-def,type-arg]
    with ledger.engine.connect() as connection:
        return list(connection.execute(select(ui_sessions)).all())


def page(client: TestClient, session: str, path: str = "/ui/oversigt"):  # type: ignore[no-untyped-def]
    return client.get(path, headers=session_header(session), follow_redirects=False)


def ended(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 303 and response.headers["location"].endswith("&besked=ugyldig")


def log_out(client: TestClient, session: str, csrf: str | None, **headers: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf} if csrf is not None else {}
    return client.post("/ui/logout", data=data, headers={**session_header(session), **headers},
                       follow_redirects=False)


def test_the_cookie_holds_a_random_id_and_the_store_only_its_hash_and_the_tokens_id(client, ledger, tokens):
    token = tokens["finance"]
    response = post_log_in(client, token)
    session = set_cookies(response)["ledger_session"]["ledger_session"].value
    secret = token.split("_", 2)[2]
    assert len(session) >= 43 and secret not in response.headers.get("set-cookie", "")
    assert log_in(client, token) != session  # every log-in a new random id
    stored = rows(ledger)
    assert len(stored) == 2
    mine = [r for r in stored if r.session_hash == hashlib.sha256(session.encode()).hexdigest()]
    assert len(mine) == 1
    row = mine[0]
    assert row.token_id == token.split("_", 2)[1] and row.actor_name == "finance-tester" and row.role == "finance"
    assert row.created_at <= row.last_seen_at < row.expires_at
    every_value = " ".join(str(value) for r in stored for value in r)
    assert session not in every_value and secret not in every_value and token not in every_value


def test_after_log_out_the_old_cookie_is_refused_even_when_replayed(client, ledger, tokens):
    session = log_in(client, tokens["auditor"])
    other = log_in(client, tokens["auditor"])
    shown = page(client, session)
    assert shown.status_code == 200
    out = log_out(client, session, form_token(shown.text), Origin=ORIGIN)
    assert out.status_code == 303 and out.headers["location"] == "/ui/login?besked=logget-ud"
    assert set_cookies(out)["ledger_session"]["ledger_session"].value == ""
    assert ended(page(client, session))
    assert page(client, other).status_code == 200  # only that session ended
    assert [r.session_hash for r in rows(ledger)] == [hashlib.sha256(other.encode()).hexdigest()]


def test_a_ui_post_without_the_forms_token_or_with_a_wrong_one_is_refused_and_changes_nothing(client, ledger, tokens):
    session = log_in(client, tokens["finance"])
    other = log_in(client, tokens["finance"])
    login_form_token = form_token(client.get("/ui/login").text)
    for csrf in (None, "", "0" * 64, form_token(page(client, other).text), login_form_token):
        refused = log_out(client, session, csrf, Origin=ORIGIN)
        assert refused.status_code == 403 and REFUSED in refused.text, csrf
        assert refused.headers["content-type"].startswith("text/html") and "set-cookie" not in refused.headers
    assert page(client, session).status_code == 200 and len(rows(ledger)) == 2  # the session is still open
    without = client.post("/ui/login", data={"token": tokens["finance"]}, headers={"Origin": ORIGIN},
                          follow_redirects=False)
    assert without.status_code == 403 and REFUSED in without.text and len(rows(ledger)) == 2


def test_a_ui_post_from_another_origin_is_refused_even_with_the_right_token(client, ledger, tokens):
    session = log_in(client, tokens["finance"])
    csrf = form_token(page(client, session).text)
    for foreign in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "http://testserver.evil"},
                    {"Referer": "https://evil.example/page"}, {"Sec-Fetch-Site": "cross-site", "Origin": ORIGIN}):
        refused = log_out(client, session, csrf, **foreign)
        assert refused.status_code == 403 and REFUSED in refused.text, foreign
    assert page(client, session).status_code == 200
    assert log_out(client, session, csrf, Referer=f"{ORIGIN}/ui/oversigt").status_code == 303
    assert ended(page(client, session))


def test_a_cross_site_log_in_is_refused(client, ledger, tokens):
    """Another site's page posts its own token to /ui/login from the user's browser: the
    browser sends the other site as Origin and no UI cookie (SameSite=Strict). Even a form
    token the other site fetched for itself, with its pre-session cookie, does not help."""
    attacker = tokens["caseworker"]
    bare = client.post("/ui/login", data={"token": attacker, "next": "/ui"},
                       headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
                       follow_redirects=False)
    assert bare.status_code == 403 and REFUSED in bare.text and "ledger_session" not in set_cookies(bare)
    client.cookies.clear()
    form = client.get("/ui/login")
    pre_session = set_cookies(form)["ledger_login"]["ledger_login"].value
    client.cookies.clear()
    fetched = {"token": attacker, "csrf_token": form_token(form.text)}
    forged = client.post("/ui/login", data=fetched, headers={"Origin": "https://evil.example",
                                                            "Cookie": f"ledger_login={pre_session}"},
                         follow_redirects=False)
    assert forged.status_code == 403 and "ledger_session" not in set_cookies(forged)
    no_cookie = client.post("/ui/login", data=fetched, follow_redirects=False)  # no Origin, no pre-session cookie
    assert no_cookie.status_code == 403
    assert rows(ledger) == []
    assert post_log_in(client, attacker).status_code == 303 and len(rows(ledger)) == 1  # the UI's own form works


def test_the_log_in_form_sets_an_httponly_strict_pre_session_cookie_for_the_log_in_path_only(client):
    client.cookies.clear()
    form = client.get("/ui/login")
    cookie = set_cookies(form)["ledger_login"]["ledger_login"]
    assert cookie["httponly"] and cookie["samesite"].lower() == "strict" and cookie["path"] == "/ui/login"
    assert len(cookie.value) >= 43 and cookie.value not in form.text
    again = client.get("/ui/login", headers={"Cookie": f"ledger_login={cookie.value}"})
    assert form_token(again.text) == form_token(form.text) and "ledger_login" not in set_cookies(again)


def test_over_https_the_cookies_are_secure_and_a_plain_http_origin_is_another_site(settings, ledger, tokens):
    roomy = settings.model_copy(update={"auth_failure_limit": 10_000})
    with TestClient(create_app(roomy, ledger), base_url="https://testserver", raise_server_exceptions=False) as client:
        form = client.get("/ui/login")
        pre_session = set_cookies(form)["ledger_login"]["ledger_login"]
        assert pre_session["secure"]
        client.cookies.clear()
        data = {"token": tokens["finance"], "csrf_token": form_token(form.text)}
        headers = {"Cookie": f"ledger_login={pre_session.value}"}
        plain = client.post("/ui/login", data=data, headers={**headers, "Origin": "http://testserver"},
                            follow_redirects=False)
        assert plain.status_code == 403
        opened = client.post("/ui/login", data=data, headers={**headers, "Origin": "https://testserver"},
                             follow_redirects=False)
        assert opened.status_code == 303 and set_cookies(opened)["ledger_session"]["ledger_session"]["secure"]


def test_every_post_route_of_the_ui_is_behind_the_one_csrf_check(client, tokens):
    session = log_in(client, tokens["admin"])
    posts = [route.path for router in ROUTERS for route in router.routes if "POST" in getattr(route, "methods", ())]
    assert set(posts) >= {"/ui/login", "/ui/logout"}
    for path in posts:
        concrete = re.sub(r"\{[^}]*\}", "X", path)
        refused = client.post(concrete, data={"token": tokens["admin"]},
                              headers={**session_header(session), "Origin": ORIGIN}, follow_redirects=False)
        assert refused.status_code == 403 and REFUSED in refused.text, path
    assert page(client, session).status_code == 200


def test_a_session_unused_for_the_idle_time_ends_and_one_in_use_does_not(settings, ledger, tokens):
    idle_seconds = 3.0
    with client_with(settings, ledger, ui_session_idle_minutes=idle_seconds / 60) as client:
        used, idle = log_in(client, tokens["finance"]), log_in(client, tokens["finance"])
        opened = last_use = time.monotonic()
        while time.monotonic() - opened < idle_seconds + 0.5:
            time.sleep(0.3)
            assert time.monotonic() - last_use < idle_seconds, "the machine stalled longer than the idle time"
            last_use = time.monotonic()
            assert page(client, used, "/ui/registrer").status_code == 200  # each page counts as use
        assert ended(page(client, idle))
        assert [r.session_hash for r in rows(ledger)] == [hashlib.sha256(used.encode()).hexdigest()]
        time.sleep(idle_seconds + 0.3)
        assert ended(page(client, used)) and rows(ledger) == []


def test_a_session_ends_at_its_absolute_end_however_much_it_is_used(settings, ledger, tokens):
    lifetime = 4.0
    with client_with(settings, ledger, ui_session_max_hours=lifetime / 3600) as client:
        session = log_in(client, tokens["auditor"])
        opened = time.monotonic()
        while time.monotonic() - opened < lifetime / 2:
            assert page(client, session).status_code == 200
            time.sleep(0.3)
        time.sleep(max(0.0, lifetime + 0.3 - (time.monotonic() - opened)))
        assert ended(page(client, session)) and rows(ledger) == []


def test_a_revoked_token_ends_every_session_opened_with_it(client, ledger, tokens):
    token = create_token(ledger.engine, "finance", "leaving")
    first, second = log_in(client, token), log_in(client, token)
    staying = log_in(client, tokens["finance"])
    assert page(client, first).status_code == 200 and page(client, second).status_code == 200
    revoke_tokens(ledger.engine, "leaving")
    assert ended(page(client, first))
    assert [r.actor_name for r in rows(ledger)] == ["finance-tester"]  # the second went with the first
    assert ended(page(client, second)) and page(client, staying).status_code == 200


def test_log_in_deletes_the_expired_sessions(settings, ledger, tokens):
    with client_with(settings, ledger, ui_session_idle_minutes=1 / 60) as client:
        for _ in range(3):
            log_in(client, tokens["finance"])
        time.sleep(1.2)
        fresh = log_in(client, tokens["auditor"])
        assert [r.session_hash for r in rows(ledger)] == [hashlib.sha256(fresh.encode()).hexdigest()]


def test_the_session_lengths_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("LEDGER_UI_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("LEDGER_UI_SESSION_MAX_HOURS", "8")
    settings = Settings()
    assert (settings.ui_session_idle_minutes, settings.ui_session_max_hours) == (15, 8)
    assert (Settings.model_fields["ui_session_idle_minutes"].default,
            Settings.model_fields["ui_session_max_hours"].default) == (30, 12)
