"""The API's documentation pages, served by the service itself and working offline (docs/adr/0023).

`/docs` (Swagger UI) and `/redoc` (ReDoc) load their scripts and styles from `/docs/assets`,
the builds bundled in the pinned `fastapi-offline` package, never from a CDN; the pages
themselves come from `fastapi-csp-docs`, which holds no inline script or style, so that their
Content-Security-Policy admits only the service's own origin (people paste tokens into /docs).
ReDoc's search, which runs as a worker from a `blob:` URL, is left out for the same reason.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_csp_docs
import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""Swagger UI's and ReDoc's bundles, as `fastapi-offline` ships them."""
DOCS, REDOC, ASSETS_URL = "/docs", "/redoc", "/docs/assets"
INITIALIZER = f"{DOCS}/swagger-initializer.js"
REDOC_CSS = f"{REDOC}/redoc.css"
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'self'")
"""Scripts, styles, fonts and the OpenAPI document from the service only (`data:` images are
Swagger UI's own icons); never framed by another site."""
REDOC_STYLES = ("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # an empty <style>, filled through the CSSOM
                "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='")
"""ReDoc (styled-components) adds `<style>` elements at run time: the empty one it fills rule by
rule through the CSSOM, and one fixed sheet of its own. Their hashes admit exactly these two,
no other inline style; a new ReDoc build may need its hashes recaptured (the browser test says so)."""
REDOC_POLICY = CONTENT_SECURITY_POLICY + f"; style-src 'self' {' '.join(REDOC_STYLES)}"


class DocsHeaders:
    """The Content-Security-Policy of the documentation pages and their assets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path in (DOCS, REDOC) or path.startswith((f"{DOCS}/", f"{REDOC}/"))):
            await self.app(scope, receive, send)
            return

        policy = REDOC_POLICY if path == REDOC else CONTENT_SECURITY_POLICY

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = policy
            await send(message)

        await self.app(scope, receive, with_policy)


def install(app: FastAPI) -> None:
    """Serve /docs and /redoc (the app is made with `docs_url=None, redoc_url=None`)."""
    assert app.docs_url is None and app.redoc_url is None and app.openapi_url
    openapi_url = app.openapi_url
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return fastapi_csp_docs.get_swagger_ui_html(
            title=f"{app.title} - Swagger UI", swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css", swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_init_script_url=INITIALIZER)

    @app.get(INITIALIZER, include_in_schema=False)
    async def swagger_ui_initializer() -> Response:
        return fastapi_csp_docs.get_swagger_ui_init_js(openapi_url=openapi_url,
                                                       swagger_ui_parameters=app.swagger_ui_parameters)

    @app.get(REDOC, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return fastapi_csp_docs.get_redoc_html(
            openapi_url=openapi_url, title=f"{app.title} - ReDoc", redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False, redoc_css_url=REDOC_CSS,
            disable_search=True)

    @app.get(REDOC_CSS, include_in_schema=False)
    async def redoc_css() -> Response:
        return fastapi_csp_docs.get_redoc_css()

    app.add_middleware(DocsHeaders)
