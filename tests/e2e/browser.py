"""A real `ledger demo` serving the demo municipality, and a real headless Chromium, for the web
UI's browser tests and its screenshots.

Chromium is Debian's (`/usr/bin/chromium`; the Makefile's `test` installs it with apt-get
where it is missing), driven by Playwright without Playwright's own browser downloads.
Where it is missing the browser tests are skipped with a loud line, except under CI=true,
where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.e2e.test_serve import LEDGER, free_port

CHROMIUM = Path(os.environ.get("LEDGER_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: under CI=true the browser tests must run", pytrace=False)
    print(f"\n!!! SKIPPING BROWSER TESTS: {message} !!!")
    pytest.skip(message)


def launch(playwright: Any, language: str | None = None) -> Any:
    """Debian's Chromium, headless, with nothing reaching out to the network on its own; in
    `language` (e.g. da-DK) where its translations (Debian's chromium-l10n) are installed."""
    if language is None:
        return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, f"--lang={language}"],
                                      env=os.environ | {"LANGUAGE": language.replace("-", "_")})


@dataclass
class DemoServer:
    """`ledger demo` (the README's first command) into a fresh SQLite file, serving on a free
    port; the tokens it prints, by role."""

    directory: Path
    tokens: dict[str, str] = field(default_factory=dict)
    base: str = ""
    process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return os.environ | {"LEDGER_DATABASE_URL": f"sqlite:///{self.directory / 'ledger.sqlite'}", "COLUMNS": "250"}

    def start(self) -> "DemoServer":
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        output = self.directory / "demo.log"
        with output.open("wb") as log:
            self.process = subprocess.Popen([LEDGER, "demo", "--port", str(port)], env=self.env(), cwd=self.directory,
                                            stdout=log, stderr=subprocess.STDOUT)
        self.wait_until_caught_up(output)
        for line in output.read_text().splitlines():
            if "token: " in line:
                role, token = line.split("token: ")
                self.tokens[role.split()[-1]] = token.strip()
        assert set(self.tokens) == {"admin", "finance", "caseworker", "auditor", "buyer"}, output.read_text()
        return self

    def wait_until_caught_up(self, output: Path) -> None:
        """Up, and its projections at the store's position (so pages read the whole demo)."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.process is not None and self.process.poll() is None:
            try:
                health = httpx.get(f"{self.base}/health", timeout=1)
                if health.status_code == 200 and health.json()["projections"]["lag"] == 0:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"ledger demo did not come up with its projections caught up:\n{output.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def demo_server(directory: Path) -> Iterator[DemoServer]:
    server = DemoServer(directory)
    try:
        yield server.start()
    finally:
        server.stop()


def log_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/ui/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui")


def offline_context(browser: Any, server: DemoServer) -> tuple[Any, list[str]]:
    """A browser context that notes every request going anywhere but the ledger's own server,
    and anything the UI's Content-Security-Policy blocked (the browser logs it as an error)."""
    context = browser.new_context(accept_downloads=True)
    elsewhere: list[str] = []
    context.on("request",
               lambda request: None if request.url.startswith(server.base) else elsewhere.append(request.url))
    context.on("console", lambda message: elsewhere.append(message.text)
               if "Content Security Policy" in message.text else None)
    return context, elsewhere


def logged_in_page(server: DemoServer, role: str) -> Iterator[Any]:
    """A page of its own Chromium, logged in as `role`, for a fixture to yield; afterwards,
    nothing it loaded may have come from elsewhere or been blocked by the UI's policy."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        context, elsewhere = offline_context(browser, server)
        page = context.new_page()
        log_in(page, server.base, server.tokens[role])
        yield page
        context.close()
        browser.close()
    assert elsewhere == [], f"the UI reached outside the service or broke its CSP: {elsewhere}"


def sent_again_records_nothing(page: Any, base: str) -> None:
    """Reload the page a form's POST answered (the browser sends the same form again): the
    answer says it was already sent, and the store's position does not move."""
    position = httpx.get(f"{base}/health", timeout=30).json()["position"]
    page.reload()
    assert page.locator("#replayed").count() == 1, page.inner_text("main")[:500]
    assert httpx.get(f"{base}/health", timeout=30).json()["position"] == position
