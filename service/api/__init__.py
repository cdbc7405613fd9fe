"""The HTTP API (api.md): one router per resource, problem+json errors."""
