"""What one request may cost the service before the application sees it (docs/adr/0021).

- Authentication first: a request that carries a body (POST, PUT, PATCH, DELETE) under `/v1/`
  is authenticated before a byte of its body is read: without a usable token it gets 401 (or
  429 from the throttle of docs/adr/0011, with the same semantics: no `Authorization` header
  is no attempt), whatever its body, its size or its Content-Length. FastAPI reads and parses
  a body before it solves the dependencies that check the token, so this is a middleware. The
  actor found is kept in the request's state, and the route's own dependency takes it from
  there (checking its role): the token is looked up once per request.
- Body size: a body over `LEDGER_MAX_BODY_BYTES` gets 413 problem+json (rule `body_too_large`),
  refused on its declared Content-Length before it is read, or, without one (a chunked body),
  as soon as the bytes received pass the limit.
- Body time: a body must arrive whole within `LEDGER_BODY_TIMEOUT_SECONDS` of the first time
  the application asks for it, else 408 problem+json (rule `body_timeout`); a client that
  trickles its body holds a connection for that long, never longer.

A refused body is answered by the middleware itself; the application, which may be waiting
for the body, is told that the client went away, and whatever it answers then is dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from typing import Any

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api import problems
from service.throttle import AuthThrottled, authenticate_throttled

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
GATED_PREFIX = "/v1/"
UNLIMITED_PREFIXES = ("/health", "/metrics")
"""Never limited per client: the probes must answer whatever one client is doing."""


class InFlightPerClient:
    """At most `limit` requests of one client handled at once; one more is answered at once with
    429 problem+json (rule `too_many_in_flight`, `Retry-After: 1`), never queued, before its
    token is checked or its body read. So one client's burst (hundreds of reads waiting for a
    future position, say) cannot take every worker thread and database connection from the
    others. A client is its credential: the bearer token, else the UI's session cookie (each
    known here only as a hash, kept while its requests run), else its address."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self.in_flight: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PREFIXES):
            return await self.app(scope, receive, send)
        client = client_key(scope)
        if self.in_flight[client] >= self.limit:
            return await problems.problem(
                429, f"this client already has {self.limit} requests in progress; try again when one is answered",
                rule="too_many_in_flight", headers={"Retry-After": "1"})(scope, receive, send)
        self.in_flight[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[client] -= 1
            if not self.in_flight[client]:
                del self.in_flight[client]


def client_key(scope: Scope) -> str:
    """Who a request is from, for the per-client limits: a hash of its credential, else its address."""
    request = Request(scope)
    credential = request.headers.get("authorization") or request.cookies.get("ledger_session")
    if credential:
        return "credential:" + hashlib.sha256(credential.encode()).hexdigest()
    return f"address:{request.client.host if request.client else 'unknown'}"


class AuthenticateBeforeBody:
    """401 (or 429) for a write under /v1/ without a usable bearer token, before its body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gated = scope["type"] == "http" and scope["method"] in WRITE_METHODS and scope["path"].startswith(GATED_PREFIX)
        if not gated:
            return await self.app(scope, receive, send)
        request = Request(scope)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if "authorization" not in request.headers:  # no attempt: not counted by the throttle
            return await _unauthorized("a bearer token is required", "token_required")(scope, receive, send)
        bearer = token.strip() if scheme.lower() == "bearer" and token.strip() else None
        try:
            actor = await anyio.to_thread.run_sync(authenticate_throttled, request, bearer)
        except AuthThrottled as throttled:
            return await problems.problem(429, str(throttled), rule="auth_throttled", headers={
                "Retry-After": str(throttled.retry_after), "Connection": "close"})(scope, receive, send)
        if actor is None:
            detail, rule = (("a bearer token is required", "token_required") if bearer is None
                            else ("the token is unknown, malformed or revoked", "token_invalid"))
            return await _unauthorized(detail, rule)(scope, receive, send)
        await self.app(scope, receive, send)


def _unauthorized(detail: str, rule: str) -> Any:
    """401 with the rules of the route's own check (`token_required`, `token_invalid`); the
    connection is closed after it, so that an unread body is not read to its end."""
    return problems.problem(401, detail, rule=rule,
                            headers={"WWW-Authenticate": "Bearer", "Connection": "close"})


class BodyLimits:
    """413 for a body over `max_bytes` (declared or counted), 408 for one that does not arrive
    whole within `timeout_seconds` of the application's first read."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float) -> None:
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._too_large()(scope, receive, send)
        await _Body(self, scope, receive, send).run()

    def _too_large(self) -> Any:
        return problems.problem(413, f"the body is larger than {self.max_bytes} bytes", rule="body_too_large",
                                headers={"Connection": "close"})


class _Body:
    """One request's body as the application reads it, counted and timed."""

    def __init__(self, limits: BodyLimits, scope: Scope, receive: Receive, send: Send) -> None:
        self.limits, self.scope, self.receive, self.send = limits, scope, receive, send
        self.seen = 0
        self.deadline: float | None = None
        self.complete = False
        self.started = False
        self.refused = False

    async def run(self) -> None:
        await self.limits.app(self.scope, self.receiving, self.sending)

    async def receiving(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        if self.complete:
            return await self.receive()  # after the body: only a disconnect is left to wait for
        if self.deadline is None:
            self.deadline = time.monotonic() + self.limits.timeout
        try:
            message = await asyncio.wait_for(self.receive(), max(self.deadline - time.monotonic(), 0))
        except asyncio.TimeoutError:
            return await self._refuse(problems.problem(
                408, f"the body did not arrive within {self.limits.timeout:g} s", rule="body_timeout"))
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limits.max_bytes:
                return await self._refuse(self.limits._too_large())
            self.complete = not message.get("more_body", False)
        return message

    async def _refuse(self, response: Any) -> Message:
        """Answer now, tell the application the client went away, drop what it answers."""
        self.refused = True
        if not self.started:
            self.started = True
            response.headers["Connection"] = "close"  # the rest of the body is not read
            await response(self.scope, self.receive, self.send)
        return {"type": "http.disconnect"}

    async def sending(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)
