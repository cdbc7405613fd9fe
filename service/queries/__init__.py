"""Typed queries over the ledger that more than one page (or the API) formats: each returns a
frozen dataclass, and the callers only present it."""
