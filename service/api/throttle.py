"""The API's answer to a throttled client (service/throttle.py counts the failures,
docs/adr/0011): 429 problem+json, rule `auth_throttled`, with `Retry-After`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from service.api import problems
from service.throttle import AuthThrottle, AuthThrottled


def install(app: FastAPI, throttle: AuthThrottle) -> None:
    app.state.auth_throttle = throttle

    @app.exception_handler(AuthThrottled)
    async def _throttled(_: Request, exc: AuthThrottled) -> JSONResponse:
        return problems.problem(429, str(exc), rule="auth_throttled", headers={"Retry-After": str(exc.retry_after)})
