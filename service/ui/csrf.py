"""CSRF protection of every POST of the web UI (docs/adr/0022): one check, one template helper.

Two defences, both required:

- **Same origin.** A POST whose `Origin` is another site (or `null`), or, without an `Origin`,
  whose `Referer` is another site, or whose `Sec-Fetch-Site` says `cross-site`, is refused.
  The UI's own origin is the request's scheme and `Host`; `https://` with the same host is
  accepted too (a proxy that ends TLS). A request with neither header is no browser's
  cross-site form; the token below still decides.
- **A token bound to the session.** Every form carries a hidden `csrf_token`: the HMAC-SHA256
  of a fixed purpose keyed with the random id in the browser's HttpOnly, SameSite=Strict
  cookie (the session's id; on the log-in form, a pre-session cookie's id). Another site
  cannot read the cookie nor, without it, compute the token; a token from one session is
  worthless in another. Nothing is kept on the server for it.

`check_csrf` is added to every UI router by `service.ui.install`, and answers any POST
that fails either defence with `CsrfRefused` (a Danish 403 page); templates put
`{{ csrf_field() }}` inside every `<form method="post">`.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request
from jinja2 import pass_context
from markupsafe import Markup, escape

SESSION_COOKIE = "ledger_session"
"""The session's random id (service/ui/sessions.py), path /ui."""
LOGIN_COOKIE = "ledger_login"
"""The pre-session id that keys the log-in form's token, path /ui/login."""
LOGIN_PATH = "/ui/login"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Exception):
    """A UI POST from another site, or without the form's token (403)."""


def csrf_token(key: str, purpose: str) -> str:
    """The form token for the cookie id `key`: HMAC-SHA256 of `purpose` ("session" or "login")."""
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from the UI's own pages (see the module)."""
    host = request.headers.get("host", "").lower()
    own = {f"{request.url.scheme}://{host}", f"https://{host}"}
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() in own
    referer = request.headers.get("referer")
    if referer is not None:
        return _origin(referer) in own
    return True


def expected_token(request: Request) -> str | None:
    """The token a POST to this path must carry, from the cookie that keys it (None: no cookie)."""
    cookie, purpose = (LOGIN_COOKIE, "login") if request.url.path == LOGIN_PATH else (SESSION_COOKIE, "session")
    key = request.cookies.get(cookie)
    return csrf_token(key, purpose) if key else None


async def check_csrf(request: Request) -> None:
    """The one check of every UI POST: same origin and the form's token (CsrfRefused if not)."""
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request):
        raise CsrfRefused()
    sent = (await request.form()).get(FIELD)
    expected = expected_token(request)
    if expected is None or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()


@pass_context
def csrf_field(context: dict) -> Markup:  # type: ignore[type-arg]
    """The hidden field of a form posted from this page: the token of the page's session (or,
    on the log-in page, of its pre-session cookie), set by whoever checked it."""
    request: Request = context["request"]
    token = getattr(request.state, "csrf_token", None) or expected_token(request) or ""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token)}">')
