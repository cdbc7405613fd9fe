"""Which forms a web UI session recorded a moment ago, so that the same form sent again by
another rendering of it (the browser's Back button, which fetches the `no-store` form anew
with a fresh idempotency key while the browser restores what was typed) is not recorded twice
(docs/adr/0044).

A form records its command under its own idempotency key (service/ui/forms.py
`form_idempotency`), and the store keeps, for that key, what the request was (its
fingerprint: method, path, canonical body, hashed), the events it recorded and when. After a
recording the session's browser is given a mark of it in a cookie (`COOKIE`: HttpOnly,
SameSite=Strict, path /ui, living as long as the window): the first 16 hex digits of the
command's fingerprint and the SHA-256 of the form's key, newest first, the session's own tag in
front. A form sent with another key whose command has a marked fingerprint is looked up in the
store by the marked key: when the store holds that key under the session's actor, for exactly
this fingerprint, recorded within `LEDGER_UI_FORM_REPEAT_MINUTES`, it is the same registration
again. The cookie only says where to look; the store says whether, what and when, so a mark
cannot make the UI refuse anything the session did not record, and any `ledger serve` process
of the store answers alike.

The cookie holds no personal data: hashes of random keys and of commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COOKIE = "ledger_recent_forms"
MAX_MARKS = 12
"""Recordings marked per session at most (the oldest forgotten first); a cookie of about 1 KB."""
_TAG = 16
_CONTENT = 16
_MARK = re.compile(rf"[0-9a-f]{{{_CONTENT}}}:[0-9a-f]{{64}}")


@dataclass(frozen=True)
class Mark:
    """One recording: the start of its command's fingerprint and the hash of its form's key."""

    content: str
    key_hash: str

    def marks(self, fingerprint: str) -> bool:
        return fingerprint[:_CONTENT] == self.content


def session_tag(session_hash: str) -> str:
    """What ties the cookie to its session: the start of the session's hash."""
    return session_hash[:_TAG]


def read_marks(cookie: str | None, session_hash: str) -> list[Mark]:
    """The marks of the cookie, newest first, when it is the session's (none otherwise, or
    when it is not one the UI wrote)."""
    tag, _, rest = (cookie or "").partition(".")
    if tag != session_tag(session_hash) or not rest:
        return []
    found = []
    for text in rest.split("-"):
        if _MARK.fullmatch(text):
            content, key_hash = text.split(":")
            found.append(Mark(content, key_hash))
    return found[:MAX_MARKS]


def with_recording(marks: list[Mark], fingerprint: str, key_hash: str) -> list[Mark]:
    """The marks with this recording first (and an older one of the same command left out)."""
    return [Mark(fingerprint[:_CONTENT], key_hash), *(m for m in marks if not m.marks(fingerprint))][:MAX_MARKS]


def cookie_value(marks: list[Mark], session_hash: str) -> str:
    return session_tag(session_hash) + "." + "-".join(f"{m.content}:{m.key_hash}" for m in marks)
