"""The data dictionary shipped with every export: one entry per column."""

from __future__ import annotations

from drugratings.portal.access import Report

COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("release_id", "integer", "The release the cell comes from; releases are immutable."),
    ("drug_id", "integer", "Drug Ratings drug id (see /api/v1/drugs/{id})."),
    ("drug_name", "string", "Generic name (FDA NDC)."),
    ("brand_names", "string", "The drug's brand names, separated by '; ' (FDA NDC)."),
    ("manufacturer", "string", "Labeller or application holder (FDA NDC)."),
    (
        "indication_id",
        "integer|null",
        "Indication id for per-indication cells; null across indications.",
    ),
    ("indication_name", "string|null", "The indication's name; null across indications."),
    ("dimension", "string", "efficacy, safety, tolerability, accessibility or adherence."),
    (
        "breakdown_value",
        "string|null",
        "Specialty, region (US state or country) or month (YYYY-MM); for two breakdowns "
        "'specialty=...; month=...'.",
    ),
    (
        "score",
        "number|null",
        "Rater-adjusted mean score on the 1-5 scale, with differential-privacy noise.",
    ),
    ("ci_low", "number|null", "Lower end of the 95% interval (sampling and privacy noise)."),
    ("ci_high", "number|null", "Upper end of the 95% interval."),
    (
        "n_raters",
        "integer|null",
        "Number of physicians (of ratings, across indications), with differential-privacy "
        "noise; never under k: a noisier count is published as suppressed.",
    ),
    (
        "suppressed",
        "boolean",
        "True when fewer than k physicians stand behind the cell, or a "
        "neighbour had to be hidden so it cannot be derived from totals.",
    ),
    ("rank", "integer|null", "Rank among the report's drugs on this dimension (1 = best)."),
    ("rank_low", "integer|null", "Lower end of the 95% rank interval."),
    ("rank_high", "integer|null", "Upper end of the 95% rank interval."),
)
FIELDS = [name for name, _, _ in COLUMNS]


def _flat(value: str | dict | None) -> str | None:
    """A combined breakdown value as text: "specialty=Cardiology; month=2025-03"."""
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return value


def rows(report: Report) -> list[dict]:
    return [
        {
            "release_id": report.release.pk,
            **cell.as_dict(),
            "brand_names": "; ".join(cell.brand_names),
            "breakdown_value": _flat(cell.breakdown_value),
        }
        for cell in report.cells
    ]


def about(report: Report) -> list[tuple[str, str]]:
    return [
        ("report", report.kind),
        ("subject", str(report.subject.get("name"))),
        ("release", f"{report.release.pk} published {report.release.published_at.isoformat()}"),
        ("breakdown", report.breakdown),
        ("minimum physicians per cell (k)", str(report.min_raters)),
        (
            "privacy",
            "Cells below k are suppressed, with complementary suppression; no count under k "
            "is published; a value moves only on at least k physicians' changes; every value "
            "carries differential-privacy noise. See the methodology page's threat model.",
        ),
    ]
