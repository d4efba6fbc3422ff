"""Domain errors that every interface (API, web forms, commands) turns into a clear message."""

from __future__ import annotations


class InvalidInput(ValueError):
    """Input that breaks a rule; names the offending field so clients can point at it."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


class Throttled(InvalidInput):
    """Too many attempts: a 429 that says when to come back (HTTP Retry-After)."""

    def __init__(self, field: str, message: str, retry_after: int) -> None:
        super().__init__(field, message, status=429)
        self.retry_after = retry_after


class Conflict(ValueError):
    """A request that clashes with the current state (HTTP 409)."""
