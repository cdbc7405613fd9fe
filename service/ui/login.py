"""Logging in and out of the web UI (see service/ui/auth.py for the rules, service/ui/sessions.py
for the sessions and service/ui/csrf.py for the forms' tokens).

The log-in page sets a pre-session cookie (a random id, HttpOnly, SameSite=Strict, path
/ui/login) that keys its form's CSRF token, so another site cannot post a token of its own to
the log-in (log-in CSRF). An accepted token opens a session whose random id replaces the
pre-session cookie; log-out deletes the session's row and clears its cookie.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from service.throttle import AuthThrottled, authenticate_throttled
from service.ui.auth import COOKIE, MESSAGES, safe_next
from service.ui.csrf import LOGIN_COOKIE, LOGIN_PATH, csrf_token
from service.ui.recent_forms import COOKIE as RECENT_FORMS_COOKIE
from service.ui.render import TEMPLATES
from service.ui.sessions import close_session, open_session

router = APIRouter(include_in_schema=False)
WRONG_TOKEN = ("Tokenet blev ikke genkendt. Det kan være kopieret forkert, være ukendt eller tilbagekaldt. "
               "Indsæt hele tokenet, som det blev udskrevet (det begynder med lt_).")
OLD_TOKEN_COOKIE = "ledger_token"
"""The cookie that held the API token itself before sessions: cleared at log-in and log-out."""
LOGIN_COOKIE_SECONDS = 3600


def throttled_message(error: AuthThrottled) -> str:
    return f"For mange forsøg med forkerte tokens fra din adresse. Prøv igen om {error.retry_after} sekunder."


def cookie_options(request: Request, path: str = "/ui") -> dict[str, object]:
    """HttpOnly, SameSite=Strict, on the UI's path; Secure over HTTPS."""
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https", "path": path}


def login_page(request: Request, next_url: str, message: str | None, error: str | None, status: int = 200,
               headers: dict[str, str] | None = None) -> Response:
    """The log-in form, its token keyed with the browser's pre-session cookie (a new one if it
    has none)."""
    key = request.cookies.get(LOGIN_COOKIE)
    fresh = not key or len(key) > 100
    if fresh:
        key = secrets.token_urlsafe(32)
    request.state.csrf_token = csrf_token(key, "login")
    response = TEMPLATES.TemplateResponse(request, "login.html", {"next": safe_next(next_url), "message": message,
                                                                  "error": error, "actor": None, "nav": []},
                                          status_code=status, headers=headers)
    if fresh:
        response.set_cookie(LOGIN_COOKIE, key, max_age=LOGIN_COOKIE_SECONDS, **cookie_options(request, LOGIN_PATH))
    return response


@router.get("/ui/login")
def login_form(request: Request, next: str | None = None, besked: str | None = None) -> Response:
    return login_page(request, next or "/ui", MESSAGES.get(besked or ""), None)


@router.post("/ui/login")
def log_in(request: Request, token: Annotated[str, Form(max_length=300)] = "",
           next: Annotated[str, Form(max_length=2000)] = "/ui") -> Response:
    """A token the API accepts opens a session with that token's role; any other is refused
    (401), and counts against the client's address as on the API (429 once it has too many)."""
    try:
        actor = authenticate_throttled(request, token.strip() or None)
    except AuthThrottled as error:
        return login_page(request, next, None, throttled_message(error), 429, {"Retry-After": str(error.retry_after)})
    if actor is None:
        return login_page(request, next, None, WRONG_TOKEN, 401)
    app = request.app
    session_id = open_session(app.state.ledger.engine, app.state.settings, token.strip(), actor,
                              replaces=request.cookies.get(COOKIE))
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(COOKIE, session_id, **cookie_options(request))
    response.delete_cookie(LOGIN_COOKIE, **cookie_options(request, LOGIN_PATH))
    response.delete_cookie(OLD_TOKEN_COOKIE, **cookie_options(request))
    return response


@router.post("/ui/logout")
def log_out(request: Request) -> Response:
    """Log out: the session's row is deleted (its cookie, even replayed, is refused from now on)
    and the cookies cleared (the session's, and its marks of recent forms). A POST from the
    page's button only, with the session's CSRF token."""
    session_id = request.cookies.get(COOKIE)
    if session_id:
        close_session(request.app.state.ledger.engine, session_id)
    response = RedirectResponse("/ui/login?besked=logget-ud", status_code=303)
    response.delete_cookie(COOKIE, **cookie_options(request))
    response.delete_cookie(OLD_TOKEN_COOKIE, **cookie_options(request))
    response.delete_cookie(RECENT_FORMS_COOKIE, **cookie_options(request))
    return response
