"""Slide-ready PDF (16:9 pages): a title slide, per dimension a chart and its table, then the
method notes and the release it comes from. Pure Python (ReportLab), so no system libraries."""

from __future__ import annotations

import io
from collections import defaultdict

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import (
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from drugratings.portal.access import Cell, Report
from drugratings.ratings.dimensions import DIMENSION_NAMES

PAGE = (960.0, 540.0)  # a 16:9 slide (13.33 x 7.5 in)
MARGIN = 0.45 * inch
INK = colors.HexColor("#1f2933")
BLUE = colors.HexColor("#0072B2")
PALETTE = [colors.HexColor(c) for c in ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")]
MAX_ROWS = 14  # rows that fit a slide at a readable size
KIND = {
    "indication": "Indication report",
    "drug_class": "Drug-class report",
    "drug": "Drug scorecard",
}


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=34, leading=40, textColor=INK),
        "h": ParagraphStyle("h", parent=base["Heading1"], fontSize=22, leading=26, textColor=INK),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontSize=13, leading=18),
        "small": ParagraphStyle("s", parent=base["BodyText"], fontSize=10, leading=13),
    }


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _name(cell: Cell, with_indication: bool = True) -> str:
    brands = ", ".join(b.title() for b in cell.brand_names[:2])
    name = cell.drug_name + (f" ({brands})" if brands else "")
    if cell.indication_name and with_indication:
        name += f" · {cell.indication_name}"
    return name[:60]


def _value_label(value: str | dict | None) -> str:
    if isinstance(value, dict):
        return " · ".join(value.values())
    return value or "All"


def _forest(cells: list[Cell], width: float) -> Drawing:
    """Scores with 95% intervals on the 1-5 scale, best first; suppressed rows say so."""
    row_h, left, right = 34, 330.0, width - 20
    height = 40 + row_h * len(cells)
    d = Drawing(width, height)

    def x(score: float) -> float:
        return left + (max(1.0, min(5.0, score)) - 1.0) / 4.0 * (right - left)

    for tick in range(1, 6):
        d.add(Line(x(tick), 20, x(tick), height - 5, strokeColor=colors.lightgrey))
        d.add(String(x(tick), 6, str(tick), fontSize=12, textAnchor="middle"))
    for n, c in enumerate(cells):
        y = height - 20 - n * row_h
        d.add(String(4, y - 4, _name(c, False)[:44], fontSize=13, fillColor=INK))
        if c.suppressed or c.score is None:
            d.add(
                String(left, y - 4, "suppressed (fewer than k)", fontSize=10, fillColor=colors.grey)
            )
            continue
        d.add(Line(x(c.ci_low), y, x(c.ci_high), y, strokeColor=BLUE, strokeWidth=3))
        d.add(Circle(x(c.score), y, 6, fillColor=BLUE, strokeColor=BLUE))
        d.add(String(x(c.ci_high) + 8, y - 4, f"{c.score:.2f}", fontSize=11, fillColor=INK))
    return d


def _lines(series: dict[str, dict[str, Cell]], months: list[str], width: float) -> Drawing:
    """Lines over months (oldest left), one per drug, each over its interval band."""
    height, left, right, top, bottom = 250.0, 40.0, width - 200, 10.0, 30.0
    d = Drawing(width, height)

    def y(score: float) -> float:
        return bottom + (max(1.0, min(5.0, score)) - 1.0) / 4.0 * (height - top - bottom)

    step = (right - left) / max(len(months) - 1, 1)
    xs = {m: left + i * step for i, m in enumerate(months)}
    for tick in range(1, 6):
        d.add(Line(left, y(tick), right, y(tick), strokeColor=colors.lightgrey))
        d.add(String(left - 8, y(tick) - 3, str(tick), fontSize=9, textAnchor="end"))
    every = max(1, len(months) // 8)
    for i, m in enumerate(months):
        if i % every == 0 or i == len(months) - 1:
            d.add(String(xs[m], 8, m, fontSize=9, textAnchor="middle"))
    for n, (name, by_month) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        pts = [(m, by_month[m]) for m in months if m in by_month and not by_month[m].suppressed]
        if len(pts) > 1:
            band = [(xs[m], y(c.ci_high)) for m, c in pts] + [
                (xs[m], y(c.ci_low)) for m, c in reversed(pts)
            ]
            d.add(
                Polygon(
                    [v for p in band for v in p],
                    fillColor=colors.Color(colour.red, colour.green, colour.blue, alpha=0.15),
                    strokeColor=None,
                )
            )
            d.add(
                PolyLine(
                    [v for m, c in pts for v in (xs[m], y(c.score))],
                    strokeColor=colour,
                    strokeWidth=2,
                )
            )
        for m, c in pts:
            d.add(Circle(xs[m], y(c.score), 3, fillColor=colour, strokeColor=colour))
        d.add(Rect(right + 15, height - 20 - n * 16, 10, 10, fillColor=colour, strokeColor=None))
        d.add(String(right + 30, height - 19 - n * 16, name[:28], fontSize=10))
    return d


def _table(header: list[str], rows: list[list[str]], widths: list[float] | None = None) -> Table:
    table = Table([header, *rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 13),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 13),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f5f8")]),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _dimension_slides(report: Report, dim: str, styles, width: float) -> list:
    cells = [c for c in report.cells if c.dimension == dim]
    title = Paragraph(f"{dim.capitalize()}: {report.subject.get('name')}", styles["h"])
    if report.breakdown == "none":
        ordered = sorted(cells, key=lambda c: (c.suppressed, -(c.score or 0)))[:MAX_ROWS]
        rows = [
            [
                _name(c),
                _num(c.score),
                f"{_num(c.ci_low)}–{_num(c.ci_high)}" if not c.suppressed else "–",
                str(c.n_raters) if c.n_raters is not None else "–",
                f"{c.rank} ({c.rank_low}–{c.rank_high})" if c.rank else "–",
            ]
            for c in ordered
        ]
        return [
            title,
            _forest(ordered[:10], width),
            PageBreak(),
            Paragraph(f"{dim.capitalize()}: figures", styles["h"]),
            _table(["Drug", "Score", "95% interval", "Physicians (noisy)", "Rank (95%)"], rows),
        ]
    by_drug: dict[str, dict[str, Cell]] = defaultdict(dict)
    for c in cells:
        by_drug[_name(c)][_value_label(c.breakdown_value)] = c
    values = list(dict.fromkeys(_value_label(c.breakdown_value) for c in cells))
    flow = [title]
    if report.breakdown == "month":
        months = sorted(values)
        flow.append(_lines(dict(list(by_drug.items())[:5]), months, width))
        values = months[::-1]  # the table reads newest first
    published = [v for v in values if any(not d[v].suppressed for d in by_drug.values() if v in d)]
    shown = published[:MAX_ROWS]
    rows = [
        [
            v,
            *[
                _num(d[v].score) if v in d and not d[v].suppressed else "–"
                for d in by_drug.values()
            ],
        ]
        for v in shown
    ]
    if not rows:
        flow.append(
            Paragraph(
                f"No cell of this breakdown reached k = {report.min_raters} physicians.",
                styles["body"],
            )
        )
        return flow
    flow += [
        PageBreak(),
        Paragraph(f"{dim.capitalize()} by {report.breakdown.replace(',', ' and ')}", styles["h"]),
        _table(
            [report.breakdown.replace(",", " · "), *[n.split(" (")[0][:28] for n in by_drug][:7]],
            [r[:8] for r in rows],
        ),
    ]
    if len(published) > MAX_ROWS:
        flow.append(
            Paragraph(
                f"{len(published) - MAX_ROWS} more rows in the CSV export of the same release.",
                styles["small"],
            )
        )
    return flow


def render(report: Report) -> bytes:
    styles = _styles()
    buffer = io.BytesIO()
    release = report.release
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{report.subject.get('name')} — Drug Ratings release #{release.pk}",
        author="Drug Ratings",
    )
    width = PAGE[0] - 2 * MARGIN
    story = [
        Spacer(1, 1.4 * inch),
        Paragraph(str(report.subject.get("name")), styles["title"]),
        Paragraph(
            f"{KIND.get(report.kind, report.kind)} · breakdown: {report.breakdown}", styles["body"]
        ),
        Spacer(1, 0.3 * inch),
        Paragraph(
            f"Release #{release.pk}, published {release.published_at:%d %b %Y %H:%M} UTC · "
            f"methodology {release.methodology_version} · k = {report.min_raters}",
            styles["body"],
        ),
        Paragraph(
            "Physician ratings (1-5), rater-adjusted, with differential-privacy noise.",
            styles["small"],
        ),
        PageBreak(),
    ]
    for dim in DIMENSION_NAMES:
        story += _dimension_slides(report, dim, styles, width)
        story.append(PageBreak())
    story += [
        Paragraph("Method notes", styles["h"]),
        Paragraph(
            f"Every figure comes from release #{release.pk} and only from it: download the same "
            f"release again with release={release.pk} and the numbers are identical.",
            styles["body"],
        ),
        Paragraph(
            f"A cell is published only when at least k = {report.min_raters} distinct physicians "
            "stand behind it; neighbours are hidden too where a hidden cell could otherwise be "
            "worked out from a total. “–” marks a suppressed cell.",
            styles["body"],
        ),
        Paragraph(
            "Scores are means of rater-adjusted ratings on the 1-5 scale. Intervals are 95% and "
            "include sampling error and the privacy noise; physician counts are noisy. Ranks "
            "are simulated from the published estimates and intervals: a drug is clearly best "
            "only when its rank interval is 1–1.",
            styles["body"],
        ),
        Paragraph(
            "Ratings are the opinions of verified physicians, not clinical-trial outcomes. "
            "Not medical advice.",
            styles["small"],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
