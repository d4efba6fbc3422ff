"""Bounded integer types for every number the API reads from a path, query or body.

Unbounded ints reached the database: SQLite and PostgreSQL reject values beyond 64 bits with an
error that became a 500. Every id, offset and page is capped here so such input is a 422 naming
the field instead.
"""

from __future__ import annotations

from typing import Annotated

from ninja import Field

from drugratings.bounds import MAX_ID, MAX_OFFSET, MAX_PAGE

__all__ = ["MAX_ID", "MAX_OFFSET", "MAX_PAGE", "Id", "Offset", "Page"]

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
Page = Annotated[int, Field(ge=1, le=MAX_PAGE)]
