"""Throttling failed authentications (docs/adr/0011, docs/adr/0023).

A failed token attempt is counted against what it tells apart:

- a well-formed token whose id the store knows (a revoked token, or a wrong secret for a known
  id) against that token id: one job that still holds a revoked token is throttled alone, and
  the other users behind the same address (an office behind one NAT) keep working;
- anything else (a malformed token, an id never issued: a guess) against the client address.

After `LEDGER_AUTH_FAILURE_LIMIT` failures of one token id or one address within a moving
window of `LEDGER_AUTH_FAILURE_WINDOW_SECONDS`, every further request presenting that token id,
or coming from that address with a token, is answered 429 (problem+json, rule `auth_throttled`,
with `Retry-After`) until the oldest failure leaves the window; the token is not even looked up,
so a valid one gets 429 too and guessing learns nothing. A request without any `Authorization`
header is not an attempt: it is 401 as always and not counted.

The failures are counted in the process (the `limits` library's moving window, in memory):
each service process counts its own. Only ids the store knows get a count of their own, so
made-up ids cannot fill the memory. The client address is the socket's peer, or the
`X-Forwarded-For` of a proxy that uvicorn trusts (`--forwarded-allow-ips`, loopback by default).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

from service.auth import TokenCheck, token_id, token_id_known
from service.ledger import Actor


class AuthThrottled(Exception):
    """Too many failed token attempts from this client address, or with this token id."""

    def __init__(self, retry_after: int, limit: int, window: int, source: str = "from this address") -> None:
        super().__init__(f"too many failed token attempts {source} ({limit} within {window} s); "
                         f"try again in {retry_after} s")
        self.retry_after = retry_after


class AuthThrottle:
    """Counts failed token attempts per key (a client address, or a known token id) in a moving window."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit, self.window = limit, window_seconds
        self.item = RateLimitItemPerSecond(limit, window_seconds)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.failures = 0
        self.throttled = 0

    def check(self, key: str, source: str = "from this address") -> None:
        """Refuse (AuthThrottled) a key that has used up its failures in the window."""
        if self.limiter.test(self.item, key):
            return
        self.throttled += 1
        reset_at = self.limiter.get_window_stats(self.item, key).reset_time
        raise AuthThrottled(max(1, math.ceil(reset_at - time.time())), self.limit, self.window, source)

    def failed(self, key: str) -> None:
        self.failures += 1
        self.limiter.hit(self.item, key)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate_throttled(request: Request, token: str | None) -> Actor | None:
    """The actor behind a token presented with `request` (None: no usable token, or an unknown,
    malformed or revoked one, counted as a failure of its token id when the store knows the id,
    else of the client's address); AuthThrottled when either has used up its failures. The actor
    is kept for the request's log line."""
    throttle: AuthThrottle = request.app.state.auth_throttle
    address = client_address(request)
    throttle.check(f"address:{address}")
    presented = token_id(token) if token else None
    if presented is not None:
        throttle.check(f"token:{presented}", "with this token")
    engine = request.app.state.ledger.engine
    actor = token_check(request).authenticate(token) if token else None
    if actor is None:
        if presented is not None and token_id_known(engine, presented):
            throttle.failed(f"token:{presented}")
        else:
            throttle.failed(f"address:{address}")
        return None
    request.state.actor = actor
    request.state.bearer = (token, actor)
    return actor


def token_check(request: Request) -> TokenCheck:
    """The process's token check, made on first use over the ledger's store."""
    check = getattr(request.app.state, "token_check", None)
    if check is None:
        check = request.app.state.token_check = TokenCheck(request.app.state.ledger.recorder.token_state)
    return check
