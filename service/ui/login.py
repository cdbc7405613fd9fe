"""Logging in and out of the web UI with an API token (see service/ui/auth.py for the rules)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from service.api.throttle import AuthThrottled, authenticate_throttled
from service.ui.auth import COOKIE, MESSAGES, safe_next
from service.ui.render import TEMPLATES

router = APIRouter(include_in_schema=False)
WRONG_TOKEN = ("Tokenet blev ikke genkendt. Det kan være kopieret forkert, være ukendt eller tilbagekaldt. "
               "Indsæt hele tokenet, som det blev udskrevet (det begynder med lt_).")


def throttled_message(error: AuthThrottled) -> str:
    return f"For mange forsøg med forkerte tokens fra din adresse. Prøv igen om {error.retry_after} sekunder."


def login_page(request: Request, next_url: str, message: str | None, error: str | None, status: int = 200,
               headers: dict[str, str] | None = None) -> Response:
    return TEMPLATES.TemplateResponse(request, "login.html", {"next": safe_next(next_url), "message": message,
                                                              "error": error, "actor": None, "nav": []},
                                      status_code=status, headers=headers)


@router.get("/ui/login")
def login_form(request: Request, next: str | None = None, besked: str | None = None) -> Response:
    return login_page(request, next or "/ui", MESSAGES.get(besked or ""), None)


@router.post("/ui/login")
def log_in(request: Request, token: Annotated[str, Form(max_length=300)] = "",
           next: Annotated[str, Form(max_length=2000)] = "/ui") -> Response:
    """A token the API accepts opens the UI with that token's role; any other is refused (401),
    and counts against the client's address as on the API (429 once it has too many)."""
    try:
        actor = authenticate_throttled(request, token.strip() or None)
    except AuthThrottled as error:
        return login_page(request, next, None, throttled_message(error), 429, {"Retry-After": str(error.retry_after)})
    if actor is None:
        return login_page(request, next, None, WRONG_TOKEN, 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/ui")
    return response


@router.post("/ui/logout")
def log_out() -> Response:
    """Log out: a POST from the page's button only, so no link or image elsewhere logs a user out."""
    response = RedirectResponse("/ui/login?besked=logget-ud", status_code=303)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
    return response
