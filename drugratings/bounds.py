"""Bounds for every number read from a request (API schemas, page query strings, form posts, URL
paths). Numbers beyond 64 bits reached the database and came back as 500s; ids, offsets and pages
outside these ranges cannot name anything, so they are refused (or fall back to a default).
"""

from __future__ import annotations

from drugratings.errors import InvalidInput

# Primary keys stay far below a signed 32-bit range; larger ids cannot exist.
MAX_ID = 2**31 - 1
MAX_OFFSET = 2**31 - 1
MAX_PAGE = 100_000
# Longest decimal text worth parsing: anything longer is out of range anyway (and int() of a
# huge digit string is itself slow).
_MAX_DIGITS = 12


def parse_int(raw: object, low: int, high: int) -> int | None:
    """`raw` as an int within [low, high], or None when it is missing, not a number or outside."""
    if raw is None:
        return None
    text = str(raw).strip()
    digits = text.removeprefix("-").removeprefix("+")
    if not digits.isascii() or not digits.isdigit() or len(digits) > _MAX_DIGITS:
        return None
    value = int(text)
    return value if low <= value <= high else None


def query_int(raw: object, default: int | None, low: int = 1, high: int = MAX_ID) -> int | None:
    """A page's query number: out-of-range or malformed values fall back to `default`."""
    value = parse_int(raw, low, high)
    return default if value is None else value


def require_int(raw: object, field: str, low: int = 1, high: int = MAX_ID) -> int:
    """A posted number that must be valid: otherwise a 400 naming the field."""
    value = parse_int(raw, low, high)
    if value is None:
        raise InvalidInput(field, f"Give a whole number from {low} to {high}.", status=400)
    return value


class IdConverter:
    """URL path ids: digits within the id range; anything else does not match (404)."""

    regex = "[0-9]{1,12}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)  # Django treats this as "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)
