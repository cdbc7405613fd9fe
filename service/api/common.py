"""Small helpers shared by the routers: command responses, path parameters, and the values' text
(`kr`, `iso`: service/queries/values.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path
from fastapi.responses import JSONResponse

from domain.values import REFERENCE_PATTERN, canonical_reference
from service.ledger import Recorded
from service.queries.values import iso, kr

COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An idempotent replay: the first response, nothing more recorded"},
    401: {"description": "No valid token"},
    403: {"description": "The role may not do this"},
    404: {"description": "Unknown resource"},
    409: {"description": "A domain rule or a reused Idempotency-Key; the rule is named"},
    422: {"description": "Invalid input; the fields are named"},
}


async def code_in_path(code: Annotated[str, Path(
        min_length=1, max_length=64, pattern=REFERENCE_PATTERN,
        description="A facility code: ASCII letters, digits, '.', '_' and '-' (any case: it is upper-cased)")]) -> str:
    """A facility code of a path, in its canonical (upper-cased) form; a coroutine, since it does
    no I/O (FastAPI runs a plain function in the thread pool)."""
    return canonical_reference(code, "code")


async def ref_in_path(ref: Annotated[str, Path(
        min_length=1, max_length=64, pattern=REFERENCE_PATTERN,
        description="The case system's pseudonymous reference: ASCII letters, digits, '.', '_' and '-' "
                    "(any case: it is upper-cased)")]) -> str:
    """A citizen_ref of a path, in its canonical (upper-cased) form."""
    return canonical_reference(ref, "citizen_ref")


Code = Annotated[str, Depends(code_in_path)]
"""A `{code}` path parameter, canonical (`grenaa-bo` reaches GRENAA-BO)."""
Ref = Annotated[str, Depends(ref_in_path)]
"""A `{ref}` path parameter, canonical (`bor-0002` reaches BOR-0002)."""


def written(recorded: Recorded) -> JSONResponse:
    return JSONResponse(recorded.body, status_code=200 if recorded.replayed else 201)


__all__ = ["COMMAND_RESPONSES", "Code", "Ref", "code_in_path", "iso", "kr", "ref_in_path", "written"]
