"""Response bodies of the API (api.md). The request bodies are the commands' declarations
(service/commands/declarations.py, `Command.body_model()`)."""

from __future__ import annotations

from pydantic import BaseModel


class CommandPublic(BaseModel):
    event_id: str
    event_ids: list[str]
    position: int
    recorded_at: str
    hours_per_day: str | None = None
    level: int | None = None
    special_tariff: str | None = None
