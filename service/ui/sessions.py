"""The web UI's server-side sessions (docs/adr/0022).

Log-in with an API token opens a session: a random id (`secrets.token_urlsafe`, 256 bits) goes
to the browser in a cookie, and the store keeps only its SHA-256 (`ui_sessions`) with the id
of the API token it was opened with (never the token), the actor's name and role, when it was
opened, last used, and when it ends at the latest.

A session is valid while all of these hold:
- its row exists (log-out deletes it, so a replayed cookie is refused);
- it was used within the last `LEDGER_UI_SESSION_IDLE_MINUTES` (idle expiry);
- it is younger than `LEDGER_UI_SESSION_MAX_HOURS` (absolute expiry, `expires_at`);
- the API token it was opened with is still not revoked (a revoked token ends its sessions).

An ended session's row is deleted when it is found so; log-in also deletes every expired row
(one indexed DELETE), so rows do not pile up.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine

from service.db import api_tokens, ui_sessions, utc
from service.ledger import Actor
from service.settings import Settings


def session_hash(session_id: str) -> str:
    """What the store keeps of a session id: its SHA-256, hex."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def token_id_of(token: str) -> str:
    """The id part of an API token `lt_<token_id>_<secret>` (service/auth.py), once the token
    was accepted: the session keeps this, never the token."""
    return token.split("_", 2)[1]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _idle(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.ui_session_idle_minutes)


def open_session(engine: Engine, settings: Settings, token: str, actor: Actor, replaces: str | None = None) -> str:
    """A new session for `actor`, who presented the accepted API `token`: its random id (for
    the cookie). The session the browser held before (`replaces`) and every expired one are
    deleted."""
    session_id = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as connection:
        ended = or_(ui_sessions.c.expires_at <= now, ui_sessions.c.last_seen_at <= now - _idle(settings))
        if replaces:
            ended = or_(ended, ui_sessions.c.session_hash == session_hash(replaces))
        connection.execute(delete(ui_sessions).where(ended))
        connection.execute(ui_sessions.insert().values(
            session_hash=session_hash(session_id), token_id=token_id_of(token), actor_name=actor.name,
            role=actor.role, created_at=now, last_seen_at=now,
            expires_at=now + timedelta(hours=settings.ui_session_max_hours)))
    return session_id


def session_actor(engine: Engine, settings: Settings, session_id: str) -> Actor | None:
    """The actor of a valid session (and the session marked as used now), or None: unknown,
    logged out, idle too long, past its end, or its API token revoked (its row, and for a
    revoked token every session of that token, deleted)."""
    key = session_hash(session_id)
    now = _now()
    with engine.begin() as connection:
        row = connection.execute(
            select(ui_sessions.c.token_id, ui_sessions.c.actor_name, ui_sessions.c.role, ui_sessions.c.last_seen_at,
                   ui_sessions.c.expires_at, api_tokens.c.token_id.label("token_found"), api_tokens.c.revoked_at,
                   api_tokens.c.municipality)
            .select_from(ui_sessions.outerjoin(api_tokens, api_tokens.c.token_id == ui_sessions.c.token_id))
            .where(ui_sessions.c.session_hash == key)
        ).first()
        if row is None:
            return None
        if row.token_found is None or row.revoked_at is not None:
            connection.execute(delete(ui_sessions).where(ui_sessions.c.token_id == row.token_id))
            return None
        if now >= utc(row.expires_at) or now - utc(row.last_seen_at) >= _idle(settings):
            connection.execute(delete(ui_sessions).where(ui_sessions.c.session_hash == key))
            return None
        connection.execute(update(ui_sessions).where(ui_sessions.c.session_hash == key).values(last_seen_at=now))
    return Actor(name=row.actor_name, role=row.role, municipality=row.municipality)


def close_session(engine: Engine, session_id: str) -> None:
    """Log-out: the session's row is deleted, so its cookie is refused from now on."""
    with engine.begin() as connection:
        connection.execute(delete(ui_sessions).where(ui_sessions.c.session_hash == session_hash(session_id)))
