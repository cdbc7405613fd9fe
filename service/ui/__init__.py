"""The finance web UI at /ui: server-rendered pages (Jinja2) with inline SVG charts, served by
the API's own service, working offline (no CDN, no external fonts or scripts), with Danish
labels and number formats. Log-in is by API token, which opens a server-side session whose
random id is the only thing kept in the browser's cookie; every POST is checked against CSRF
(docs/adr/0022); every page admits the roles of the API endpoint whose figures it shows
(docs/adr/0009-web-ui.md)."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.ui import (budget_pages, buyer_pages, citizen_pages, doegnskema_pages, finance_pages, form_pages,
                        history_pages, login, what_if_pages)
from service.ui.auth import COOKIE, LoginRequired, RoleNotAllowed
from service.ui.csrf import CsrfRefused, check_csrf
from service.ui.formatting import role
from service.ui.render import HERE, render


CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                           "form-action 'self'")
"""The UI loads only its own stylesheet and runs no script (no inline styles either), is never
framed by another site, and posts its forms only to itself."""


class UiHeaders:
    """Every response under /ui (pages, downloads, the log-in page and the stylesheet) is not
    stored by the browser or a proxy (`Cache-Control: no-store`: pages show citizens) and
    carries the UI's Content-Security-Policy. A plain ASGI middleware: the body is untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != "/ui" and not path.startswith("/ui/"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = "no-store"
                headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            await send(message)

        await self.app(scope, receive, with_headers)


ROUTERS = tuple(module.router for module in (login, budget_pages, citizen_pages, finance_pages, doegnskema_pages,
                                             history_pages, what_if_pages, form_pages,
                                             buyer_pages))
"""Every page and form of the UI; `install` puts each behind the CSRF check of its POSTs."""


def install(app: FastAPI) -> None:
    """Add the UI's pages (every one behind the CSRF check of its POSTs), its static files under
    /ui/static, its headers, and its redirects to the log-in page."""
    app.add_middleware(UiHeaders)
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(check_csrf)])
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")

    @app.get("/ui/{rest:path}", include_in_schema=False)
    def _unknown(request: Request, rest: str) -> Response:
        """Any other path under /ui: a Danish 404 page, not the API's JSON (after every page's route)."""
        if not rest:
            return RedirectResponse("/ui", status_code=307)
        message = "Der er ingen side med denne adresse i budgetledgeren. Brug menuen eller gå til oversigten."
        return render(request, None, "message.html", {"problem": {"status": 404, "message": message, "detail": None},
                                                      "form": {}}, 404)

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> Response:
        response = RedirectResponse(exc.location(), status_code=303)
        if exc.message:
            response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
        return response

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        message = ("Formularen blev afvist: den kom ikke fra budgetledgerens egne sider, eller siden var for "
                   "gammel. Gå tilbage, genindlæs siden og prøv igen.")
        return render(request, None, "message.html", {"problem": {"status": 403, "message": message, "detail": None},
                                                      "form": {}}, 403)

    @app.exception_handler(RoleNotAllowed)
    async def _forbidden(request: Request, exc: RoleNotAllowed) -> Response:
        if exc.actor.role == "buyer" and request.url.path in ("/ui", "/ui/"):
            return RedirectResponse("/ui/koeber", status_code=303)  # a buyer's start page is its own
        allowed = ", ".join(role(r) for r in ("admin", *exc.roles))
        message = (f"Din rolle ({role(exc.actor.role)}) giver ikke adgang til denne side. "
                   f"Siden kan ses af: {allowed}.")
        return render(request, exc.actor, "message.html",
                      {"problem": {"status": 403, "message": message, "detail": None}, "form": {}}, 403)
