"""Display rules for scores, shared by pages, the API and reports."""

from __future__ import annotations

from ratingstats import MIN_RATERS_SHOWN

__all__ = ["MIN_RATERS_SHOWN", "is_shown"]


def is_shown(n_raters: int) -> bool:
    """A score is shown only when at least MIN_RATERS_SHOWN distinct physicians stand behind it."""
    return n_raters >= MIN_RATERS_SHOWN
