"""Template helpers that place scores and intervals on the 1-5 scale."""

from __future__ import annotations

from django import template
from django.utils.formats import get_format
from django.utils.translation import gettext

register = template.Library()


# These return strings: floats in templates go through localised number formatting, which is
# the slowest part of rendering a drug page with hundreds of bars.
@register.filter
def scale_pct(value: float | None) -> str:
    """Position of a 1-5 score as a percentage of the bar width."""
    if value is None:
        return "0"
    return f"{max(0.0, min(100.0, (float(value) - 1.0) / 4.0 * 100.0)):.1f}"


@register.filter
def share_pct(count: int, total: int) -> str:
    return f"{100.0 * count / total:.1f}" if total else "0"


@register.filter
def score1(value: float | None) -> str:
    """One decimal in the reader's locale (4.5 in English, 4,5 in Spanish, French, German)."""
    if value is None:
        return "–"
    return f"{value:.1f}".replace(".", get_format("DECIMAL_SEPARATOR"))


@register.filter
def score2(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


@register.filter
def attr_of(obj: object, name: str) -> object:
    """`obj.<name>` for a name held in a variable (rating dimensions in loops)."""
    return getattr(obj, name, None)


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key) if mapping else None


FOREST_LEFT, FOREST_RIGHT, FOREST_ROW = 150.0, 392.0, 24


@register.filter
def forest_x(value: float | None) -> str:
    """x coordinate of a 1-5 score on the forest plot's axis."""
    if value is None:
        return f"{FOREST_LEFT:.1f}"
    share = (max(1.0, min(5.0, float(value))) - 1.0) / 4.0
    return f"{FOREST_LEFT + share * (FOREST_RIGHT - FOREST_LEFT):.1f}"


@register.filter
def forest_y(index: int) -> int:
    return int(20 + index * FOREST_ROW)


@register.filter
def forest_height(count: int) -> int:
    return int(30 + count * FOREST_ROW)


@register.filter
def truncate_name(name: str, length: int = 22) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"


@register.filter
def dim_label(value: str) -> str:
    """A dimension's display name in the reader's language ("efficacy" -> "Eficacia")."""
    return gettext(str(value).capitalize())
