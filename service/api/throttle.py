"""Throttling failed authentications per client address (docs/adr/0011).

After `LEDGER_AUTH_FAILURE_LIMIT` failed token attempts from one client address within a moving
window of `LEDGER_AUTH_FAILURE_WINDOW_SECONDS`, every further request from that address that
presents a token is answered 429 (problem+json, rule `auth_throttled`, with `Retry-After`) until
the oldest failure leaves the window; the token is not even looked up, so a valid one gets 429
too and guessing learns nothing. A request without any `Authorization` header is not an attempt:
it is 401 as always and not counted. Other addresses are not affected.

The failures are counted in the process (the `limits` library's moving window, in memory):
each service process counts its own. The client address is the socket's peer, or the
`X-Forwarded-For` of a proxy that uvicorn trusts (`--forwarded-allow-ips`, loopback by default).
"""

from __future__ import annotations

import math
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from service.api import problems
from service.auth import authenticate
from service.ledger import Actor


class AuthThrottled(Exception):
    """Too many failed token attempts from this client address."""

    def __init__(self, retry_after: int, limit: int, window: int) -> None:
        super().__init__(f"too many failed token attempts from this address ({limit} within {window} s); "
                         f"try again in {retry_after} s")
        self.retry_after = retry_after


class AuthThrottle:
    """Counts failed token attempts per client address in a moving window."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit, self.window = limit, window_seconds
        self.item = RateLimitItemPerSecond(limit, window_seconds)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.failures = 0
        self.throttled = 0

    def check(self, address: str) -> None:
        """Refuse (AuthThrottled) an address that has used up its failures in the window."""
        if self.limiter.test(self.item, address):
            return
        self.throttled += 1
        reset_at = self.limiter.get_window_stats(self.item, address).reset_time
        raise AuthThrottled(max(1, math.ceil(reset_at - time.time())), self.limit, self.window)

    def failed(self, address: str) -> None:
        self.failures += 1
        self.limiter.hit(self.item, address)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate_throttled(request: Request, token: str | None) -> Actor | None:
    """The actor behind a token presented with `request` (None: no usable token, or an unknown,
    malformed or revoked one, counted as a failure of the client's address); AuthThrottled when
    the address has used up its failures. The actor is kept for the request's log line."""
    throttle: AuthThrottle = request.app.state.auth_throttle
    address = client_address(request)
    throttle.check(address)
    actor = authenticate(request.app.state.ledger.engine, token) if token else None
    if actor is None:
        throttle.failed(address)
        return None
    request.state.actor = actor
    return actor


def install(app: FastAPI, throttle: AuthThrottle) -> None:
    app.state.auth_throttle = throttle

    @app.exception_handler(AuthThrottled)
    async def _throttled(_: Request, exc: AuthThrottled) -> JSONResponse:
        return problems.problem(429, str(exc), rule="auth_throttled", headers={"Retry-After": str(exc.retry_after)})
