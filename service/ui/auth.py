"""Log-in to the web UI opens a server-side session (service/ui/sessions.py, docs/adr/0022).

The log-in form takes an API token and checks it exactly as the API checks `Authorization:
Bearer`: unknown, malformed or revoked tokens are refused (service/auth.py), and failures count
against the client's address, which gets 429 once it has too many, on the log-in form as on
the API (service/throttle.py). An accepted token opens a session; the browser gets only the
session's random id, in a cookie that is HttpOnly (no script reads it), SameSite=Strict (no
other site's page sends it along), Path=/ui, and Secure when the UI is served over HTTPS.

Every page checks the session (known, not idle too long, not past its end, its API token not
revoked). A page admits the roles of the API endpoint whose figures it shows, by the same
lists and rule (service/access.py `READERS`, `FINANCE_READERS`, `may`: admin does all).

No cookie sends the browser to the log-in page (and back to where it was going after); an
ended session does too, with a Danish message and the cookie cleared; a role that may not see
a page gets a 403 page that says which roles may. A session id is 256 random bits: an unknown
one is not counted as a failed token (there is nothing to guess).
"""

from __future__ import annotations

from typing import Annotated, Callable
from urllib.parse import quote

from fastapi import Depends, Request

from service.access import FINANCE_READERS, READERS, may
from service.ledger import Actor
from service.ui.csrf import SESSION_COOKIE, csrf_token
from service.ui.sessions import session_actor

COOKIE = SESSION_COOKIE
MESSAGES = {
    "ugyldig": ("Din session er udløbet eller ikke gyldig længere (logget ud, for længe uden brug, "
                "eller tokenet er tilbagekaldt). Log ind igen."),
    "logget-ud": "Du er logget ud.",
}
"""Messages the log-in page shows, by the `besked` it is sent with."""


class LoginRequired(Exception):
    """No valid session: the browser goes to the log-in page."""

    def __init__(self, next_url: str, message: str | None = None) -> None:
        self.next_url, self.message = next_url, message

    def location(self) -> str:
        query = f"?next={quote(self.next_url, safe='')}"
        return "/ui/login" + query + (f"&besked={self.message}" if self.message else "")


class RoleNotAllowed(Exception):
    """A valid session whose role may not see the page (403)."""

    def __init__(self, actor: Actor, roles: tuple[str, ...]) -> None:
        self.actor, self.roles = actor, roles


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a UI page of this site, never another site."""
    if target and target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui"


def ui_actor(request: Request) -> Actor:
    """The actor of the cookie's session (service/ui/sessions.py); the page's forms get the
    session's CSRF token, and the request's log line the actor."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        raise LoginRequired(here)
    actor = session_actor(request.app.state.ledger.engine, request.app.state.settings, session_id)
    if actor is None:
        raise LoginRequired(here, "ugyldig")
    request.state.actor = actor
    request.state.csrf_token = csrf_token(session_id, "session")
    return actor


def ui_allow(*roles: str) -> Callable[[Actor], Actor]:
    """A page's roles, admitted by the API's rule (`service.access.may`: admin does all)."""

    def check(actor: Annotated[Actor, Depends(ui_actor)]) -> Actor:
        if not may(actor, roles):
            raise RoleNotAllowed(actor, roles)
        return actor

    return check


UiReader = Annotated[Actor, Depends(ui_allow(*READERS))]
UiFinanceReader = Annotated[Actor, Depends(ui_allow(*FINANCE_READERS))]
"""The roles of the API's statements and regulation (service/access.py FINANCE_READERS)."""
