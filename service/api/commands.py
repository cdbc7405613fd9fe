"""The command routes, one per declaration (service/commands/declarations.py): the path's
parameters and the body make the command, the declared roles admit the actor, and the
ledger handles it. Answers 201 with the recorded events, or 200 for an idempotent replay.

A route is a coroutine: the command is handed to a worker thread only when one of the app's
`LEDGER_COMMANDS_AT_ONCE` places is free (`command_limiter`), and waits its turn on the event
loop, not in a thread (docs/adr/0051)."""

from __future__ import annotations

import inspect
import re
from typing import Annotated, Any, Awaitable, Callable

from anyio import to_thread
from fastapi import Depends, Path, Request
from fastapi.responses import JSONResponse

from domain.values import FIRST_YEAR, LAST_YEAR
from service.api.common import COMMAND_RESPONSES, Code, Ref, written
from service.api.deps import IdempotencyKey, Ledger, allow
from service.api.routing import api_router
from service.api.schemas import CommandPublic
from service.commands.declarations import COMMANDS, Command
from service.ledger import Actor

router = api_router()

PATH_PARAMETERS: dict[str, Any] = {
    "code": Code,
    "ref": Ref,
    "year": Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)],
}
"""The type of each path parameter a command's route may have (canonical codes and refs)."""

TAGS = {"/v1/facilities": "facilities", "/v1/tariff-schedules": "tariff schedules", "/v1/citizens": "citizens",
        "/v1/retractions": "retractions"}


def _endpoint(command: type[Command]) -> Callable[..., Awaitable[JSONResponse]]:
    """A route function for `command` whose signature FastAPI reads: its path parameters, its
    body, the ledger, the actor admitted by its roles and the Idempotency-Key."""

    async def endpoint(request: Request, body: Any, ledger: Any, actor: Actor, idem: Any, **path: Any
                       ) -> JSONResponse:
        value = command.from_request(body, **path)
        limiter = request.app.state.command_limiter
        return written(await to_thread.run_sync(ledger.handle, value, actor, idem, limiter=limiter))

    parameters = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=PATH_PARAMETERS[name])
                  for name in command.spec.path_fields]
    parameters += [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=command.body_model()),
        inspect.Parameter("ledger", inspect.Parameter.KEYWORD_ONLY, annotation=Ledger),
        inspect.Parameter("actor", inspect.Parameter.KEYWORD_ONLY,
                          annotation=Annotated[Actor, Depends(allow(*command.spec.roles))]),
        inspect.Parameter("idem", inspect.Parameter.KEYWORD_ONLY, annotation=IdempotencyKey),
    ]
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = re.sub(r"(?<!^)(?=[A-Z])", "_", command.__name__).lower()  # MoveIn: move_in
    endpoint.__doc__ = command.__doc__
    return endpoint


def _tag(path: str) -> str:
    return next(tag for prefix, tag in TAGS.items() if path.startswith(prefix))


for _command in COMMANDS.values():
    router.add_api_route(
        _command.spec.path, _endpoint(_command), methods=[_command.spec.method], status_code=201,
        response_model=CommandPublic, responses=COMMAND_RESPONSES, tags=[_tag(_command.spec.path)],
    )
