"""Inline SVG charts for the portal: trend sparklines and lines over months with interval bands.
Server-rendered so pages and the PDF need no script and print as they look."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Colour-blind-safe palette (Okabe-Ito), one colour per drug line.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def _y(score: float, top: float, height: float) -> float:
    return top + (5.0 - max(1.0, min(5.0, score))) / 4.0 * height


@register.filter
def sparkline(points: list[dict], width: int = 120) -> SafeString:
    """A small trend: the score by month as a line over its 95% interval band."""
    if not points:
        return mark_safe('<span class="muted small">no monthly cells published</span>')
    height, top = 28.0, 2.0
    step = (width - 4) / max(len(points) - 1, 1)
    placed = [(2 + n * step, p) for n, p in enumerate(points)]
    upper = " ".join(f"{x:.1f},{_y(p['ci_high'], top, height):.1f}" for x, p in placed)
    lower = " ".join(f"{x:.1f},{_y(p['ci_low'], top, height):.1f}" for x, p in reversed(placed))
    line = " ".join(f"{x:.1f},{_y(p['score'], top, height):.1f}" for x, p in placed)
    label = ", ".join(f"{p['month']}: {p['score']:.2f}" for p in points)
    return mark_safe(
        f'<svg class="sparkline" width="{width}" height="32" viewBox="0 0 {width} 32" role="img"'
        f' aria-label="Trend by month: {escape(label)}">'
        f'<polygon points="{upper} {lower}" fill="#0072B2" fill-opacity="0.18"/>'
        f'<polyline points="{line}" fill="none" stroke="#0072B2" stroke-width="1.5"/></svg>'
    )


def lines_svg(series: list[dict], months: list[str], width: int = 640, height: int = 260) -> str:
    """Lines over months, one per drug, each with its 95% interval band. `series` items:
    {name, points: {month: {score, ci_low, ci_high}}}; months oldest first."""
    left, right, top, bottom = 40.0, 150.0, 10.0, 30.0
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(months) - 1, 1)
    x_of = {m: left + n * step for n, m in enumerate(months)}
    parts = [
        f'<svg class="lines" viewBox="0 0 {width} {height}" width="100%" role="img"'
        f' aria-label="Scores by month, one line per drug, with 95% interval bands">'
    ]
    for tick in (1, 2, 3, 4, 5):
        y = _y(tick, top, plot_h)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{tick}</text>'
        )
    every = max(1, len(months) // 8)
    for n, month in enumerate(months):
        if n % every == 0 or n == len(months) - 1:
            parts.append(
                f'<text x="{x_of[month]:.1f}" y="{height - 10}" font-size="11"'
                f' text-anchor="middle">{escape(month)}</text>'
            )
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        pts = [(m, s["points"][m]) for m in months if m in s["points"]]
        if not pts:
            continue
        if len(pts) > 1:
            upper = " ".join(f"{x_of[m]:.1f},{_y(p['ci_high'], top, plot_h):.1f}" for m, p in pts)
            lower = " ".join(
                f"{x_of[m]:.1f},{_y(p['ci_low'], top, plot_h):.1f}" for m, p in reversed(pts)
            )
            line = " ".join(f"{x_of[m]:.1f},{_y(p['score'], top, plot_h):.1f}" for m, p in pts)
            parts.append(
                f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.15"/>'
                f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for m, p in pts:
            parts.append(
                f'<circle cx="{x_of[m]:.1f}" cy="{_y(p["score"], top, plot_h):.1f}" r="3"'
                f' fill="{colour}"><title>{escape(s["name"])} {escape(m)}:'
                f" {p['score']:.2f} ({p['ci_low']:.2f}-{p['ci_high']:.2f})</title></circle>"
            )
        ly = top + 14 + n * 16
        parts.append(
            f'<rect x="{width - right + 10}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{width - right + 24}" y="{ly}" font-size="11">'
            f"{escape(s['name'][:22])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


@register.simple_tag
def month_lines(series: list[dict], months: list[str]) -> SafeString:
    return mark_safe(lines_svg(series, months))
