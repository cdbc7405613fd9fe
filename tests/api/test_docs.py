"""/docs (Swagger UI) and /redoc are served from the service's own bundled assets: their HTML
names no other host, every script, stylesheet and icon they load answers 200 from the app, and
their Content-Security-Policy admits only the service itself (docs/adr/0023)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from service.api.docs import CONTENT_SECURITY_POLICY

PAGES = ("/docs", "/redoc")


class References(HTMLParser):
    """Every URL a page loads: scripts, stylesheets, icons, images, and ReDoc's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("src", "href", "spec-url"):
                self.urls.append(value)


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page", PAGES)
def test_a_docs_page_loads_only_what_the_service_itself_serves(api, page):
    answer = api.get(page, role=None)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//", answer.text), "the page names another host"
    assert "<style" not in answer.text and not re.search(r"<script(?![^>]*\bsrc=)", answer.text), "inline code"
    urls = references(answer.text)
    assert len(urls) >= 3, urls
    for url in urls:
        assert url.startswith("/"), url
        loaded = api.get(url, role=None)
        assert loaded.status_code == 200 and loaded.content, url
    policy = answer.headers["content-security-policy"]
    assert policy.startswith(CONTENT_SECURITY_POLICY)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy


def test_the_swagger_initializer_points_at_the_services_own_schema(api):
    script = api.get("/docs/swagger-initializer.js", role=None)
    assert script.status_code == 200 and '"/openapi.json"' in script.text
    assert "content-security-policy" in script.headers
