"""Template helpers that place scores and intervals on the 1-5 scale."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def scale_pct(value: float | None) -> float:
    """Position of a 1-5 score as a percentage of the bar width."""
    if value is None:
        return 0.0
    return round(max(0.0, min(100.0, (float(value) - 1.0) / 4.0 * 100.0)), 1)


@register.filter
def share_pct(count: int, total: int) -> float:
    return round(100.0 * count / total, 1) if total else 0.0


@register.filter
def score1(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


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
