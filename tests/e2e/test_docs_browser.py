"""/docs and /redoc render in a real browser with the network off (every request to another host
is aborted) under their Content-Security-Policy, on a real `ledger serve` (docs/adr/0023)."""

from __future__ import annotations

import os

import pytest

from tests.e2e.browser import launch, require_chromium
from tests.e2e.test_serve import start_serving

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""ReDoc's attribution logo, hard-wired in its bundle: blocked by the policy, shown as a missing image."""


@pytest.mark.parametrize(("page", "shows"), [("/docs", "List Facilities"), ("/redoc", "Register Facility")])
def test_the_docs_render_offline_under_their_policy(settings, tmp_path, page, shows):
    require_chromium()
    from playwright.sync_api import sync_playwright

    env = os.environ | {"LEDGER_DATABASE_URL": settings.database_url, "LEDGER_DATABASE_SCHEMA": settings.database_schema}
    server, base, _, _ = start_serving(env, tmp_path)
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            tab = browser.new_page()
            elsewhere: list[str] = []
            refused: list[str] = []
            tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                      else (elsewhere.append(route.request.url), route.abort()))
            tab.on("console", lambda message: refused.append(message.text)
                   if "Content Security Policy" in message.text else None)
            tab.goto(base + page)
            tab.locator(f"text={shows} >> visible=true").first.wait_for(timeout=20_000)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert set(elsewhere) <= {REDOCLY_LOGO}, elsewhere
    assert all(REDOCLY_LOGO in message for message in refused), refused
