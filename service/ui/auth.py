"""Log-in to the web UI with an API token, kept in a cookie.

The cookie holds the same bearer token the API takes, and every page checks it exactly as the
API checks `Authorization: Bearer`: unknown, malformed or revoked tokens are refused
(service/auth.py), and failures count against the client's address, which gets 429 once it
has too many, on the log-in form as on the API (service/api/throttle.py). A page admits the
roles of the API endpoint whose figures it shows, by the API's own lists and rule
(service/api/deps.py `READERS`, `FINANCE_READERS`, `may`: admin does all). The cookie is
HttpOnly (no script reads it) and SameSite=Strict (no other site's page sends it along, so a
form elsewhere cannot act with it); it is Secure when the UI is served over HTTPS.

No cookie sends the browser to the log-in page (and back to where it was going after); a
refused token does too, with a Danish message and the cookie cleared; a role that may not see
a page gets a 403 page that says which roles may.
"""

from __future__ import annotations

from typing import Annotated, Callable
from urllib.parse import quote

from fastapi import Depends, Request

from service.api.deps import FINANCE_READERS, READERS, may
from service.api.throttle import AuthThrottled, authenticate_throttled
from service.ledger import Actor

COOKIE = "ledger_token"
MESSAGES = {
    "ugyldig": "Din adgang er ikke gyldig længere (ukendt eller tilbagekaldt token). Log ind igen.",
    "logget-ud": "Du er logget ud.",
}
"""Messages the log-in page shows, by the `besked` it is sent with."""


class LoginRequired(Exception):
    """No valid token: the browser goes to the log-in page."""

    def __init__(self, next_url: str, message: str | None = None) -> None:
        self.next_url, self.message = next_url, message

    def location(self) -> str:
        query = f"?next={quote(self.next_url, safe='')}"
        return "/ui/login" + query + (f"&besked={self.message}" if self.message else "")


class UiThrottled(Exception):
    """Too many failed tokens from this address (the API's throttle): a 429 page, not JSON."""

    def __init__(self, error: AuthThrottled) -> None:
        self.error = error


class RoleNotAllowed(Exception):
    """A valid token whose role may not see the page (403)."""

    def __init__(self, actor: Actor, roles: tuple[str, ...]) -> None:
        self.actor, self.roles = actor, roles


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a UI page of this site, never another site."""
    if target and target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui"


def ui_actor(request: Request) -> Actor:
    """The actor behind the cookie's token, checked as the API checks a bearer token."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired(here)
    try:
        actor = authenticate_throttled(request, token)
    except AuthThrottled as error:
        raise UiThrottled(error) from None
    if actor is None:
        raise LoginRequired(here, "ugyldig")
    return actor


def ui_allow(*roles: str) -> Callable[[Actor], Actor]:
    """A page's roles, admitted by the API's own rule (`service.api.deps.may`: admin does all)."""

    def check(actor: Annotated[Actor, Depends(ui_actor)]) -> Actor:
        if not may(actor, roles):
            raise RoleNotAllowed(actor, roles)
        return actor

    return check


UiReader = Annotated[Actor, Depends(ui_allow(*READERS))]
UiFinanceReader = Annotated[Actor, Depends(ui_allow(*FINANCE_READERS))]
"""The roles of the API's statements and regulation (service/api/deps.py FINANCE_READERS)."""
