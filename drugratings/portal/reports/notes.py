"""Notes a report carries for its reader."""

from __future__ import annotations

from drugratings.portal.access import Report


def empty_reason(report: Report) -> str:
    """Why a report shows no figures, so an empty page is never a puzzle."""
    if report.cells and all(c.suppressed for c in report.cells):
        return (
            f"Every cell is suppressed: no cell of this {report.breakdown.replace(',', ' by ')}"
            f" breakdown reached k = {report.min_raters} physicians in release"
            f" #{report.release.pk}."
        )
    if not report.cells:
        return f"Nothing of this report was published in release #{report.release.pk}."
    return ""
