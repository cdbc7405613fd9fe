"""Logging in to the web UI as a browser does, for the tests without a browser: the log-in
page (its pre-session cookie and the form's CSRF token), then the form posted from the UI's
own origin; the session's id is what the browser would keep."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

from fastapi.testclient import TestClient

ORIGIN = "http://testserver"
"""The TestClient's own origin: what a browser sends as `Origin` for the UI's forms."""
_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def form_token(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = _FIELD.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def set_cookies(response) -> dict[str, SimpleCookie]:  # type: ignore[no-untyped-def]
    """Every Set-Cookie of a response, by cookie name."""
    cookies: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        cookies.update({name: cookie for name in cookie})
    return cookies


def post_log_in(client: TestClient, token: str, next_url: str = "/ui"):  # type: ignore[no-untyped-def]
    """The log-in form as a browser posts it: the page fetched, then the form sent with its
    token, its pre-session cookie and the UI's origin. The client's cookie jar is left empty."""
    client.cookies.clear()
    page = client.get("/ui/login")
    login_cookie = page.cookies.get("ledger_login") or client.cookies.get("ledger_login")
    client.cookies.clear()
    return client.post("/ui/login", data={"token": token, "next": next_url, "csrf_token": form_token(page.text)},
                       headers={"Cookie": f"ledger_login={login_cookie}", "Origin": ORIGIN}, follow_redirects=False)


def log_in(client: TestClient, token: str) -> str:
    """A session's id for an accepted token (what the browser's `ledger_session` cookie holds)."""
    response = post_log_in(client, token)
    assert response.status_code == 303, response.text
    return set_cookies(response)["ledger_session"]["ledger_session"].value


def session_header(session_id: str) -> dict[str, str]:
    return {"Cookie": f"ledger_session={session_id}"}
