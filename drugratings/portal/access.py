"""Permission-checked pharma reads. Every report comes from a published release, never from
live rows, and passes the caller's subscription check first."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from drugratings.accounts.access import (
    AccessDenied,
    Capability,
    FigureView,
    figure_view,
    require,
)
from drugratings.accounts.models import ApiToken, Specialty, TokenKind, User
from drugratings.analytics.access import (
    ScoreCell,
    current_fit_id,
    drug_score_cells,
    indication_score_cells,
)
from drugratings.catalog.models import Drug, DrugClass, DrugIndication, Indication
from drugratings.core.dbrouter import retry_on_primary
from drugratings.errors import InvalidInput
from drugratings.portal.models import Breakdown, Level, PharmaOrganization, Release
from drugratings.portal.privacy.engagement import engagement_at
from drugratings.portal.releases import versions_at
from drugratings.portal.reports.combined import combined_layout, is_combined
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.versions import versions_of

RANK_DRAWS = 4000


def organization_of(user: User) -> PharmaOrganization:
    require(user, Capability.USE_PORTAL)
    analyst = getattr(user, "pharma_analyst", None)
    if analyst is None or not analyst.organization.is_active:
        raise AccessDenied("Your account is not linked to an active organisation.")
    return analyst.organization


def latest_release() -> Release:
    release = Release.objects.order_by("-pk").first()
    if release is None:
        raise Http404("No release has been published yet.")
    return release


def get_release(release_id: int | None) -> Release:
    if release_id is None:
        return latest_release()
    release = retry_on_primary(Release.objects.filter(pk=release_id).first)
    if release is None:
        raise Http404(f"Release {release_id} does not exist.")
    return release


def _subscribed(org: PharmaOrganization) -> tuple[set[int], set[int]]:
    today = timezone.localdate()
    rows = org.subscriptions.filter(starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    return (
        set(rows.exclude(indication=None).values_list("indication_id", flat=True)),
        set(rows.exclude(drug_class=None).values_list("drug_class_id", flat=True)),
    )


def check_indication(org: PharmaOrganization, indication_id: int) -> Indication:
    indication = Indication.objects.filter(pk=indication_id).first()
    if indication is None:
        raise Http404(f"Indication {indication_id} does not exist.")
    indications, _ = _subscribed(org)
    if not org.all_areas and indication_id not in indications:
        raise AccessDenied(f"Your organisation does not subscribe to {indication.name}.")
    return indication


def check_drug_class(org: PharmaOrganization, class_id: int) -> DrugClass:
    drug_class = DrugClass.objects.filter(pk=class_id).first()
    if drug_class is None:
        raise Http404(f"Drug class {class_id} does not exist.")
    _, classes = _subscribed(org)
    if not org.all_areas and class_id not in classes:
        raise AccessDenied(f"Your organisation does not subscribe to {drug_class.name}.")
    return drug_class


def check_drug(org: PharmaOrganization, drug_id: int) -> Drug:
    drug = Drug.objects.select_related("drug_class").filter(pk=drug_id).first()
    if drug is None:
        raise Http404(f"Drug {drug_id} does not exist.")
    indications, classes = _subscribed(org)
    listed = set(DrugIndication.objects.filter(drug=drug).values_list("indication_id", flat=True))
    if not (org.all_areas or drug.drug_class_id in classes or listed & indications):
        raise AccessDenied(
            f"Your organisation does not subscribe to an area of {drug.generic_name}."
        )
    return drug


@dataclass(frozen=True)
class Cell:
    drug_id: int
    drug_name: str
    indication_id: int | None
    dimension: str
    breakdown_value: str | dict | None
    score: float | None
    ci_low: float | None
    ci_high: float | None
    n_raters: int | None
    suppressed: bool
    rank: int | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    # Every row names its drug and indication (no "indication #81").
    brand_names: tuple[str, ...] = ()
    manufacturer: str = ""
    indication_name: str | None = None
    breakdown_key: str | None = None  # the raw value behind breakdown_value (e.g. specialty id)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass(frozen=True)
class Report:
    kind: str
    subject: dict
    release: Release
    breakdown: str
    min_raters: int
    cells: list[Cell]
    engagement: list[dict] = field(default_factory=list)


def _breakdown(value: str | None) -> str:
    value = (value or Breakdown.NONE).replace(" ", "")
    if value not in Breakdown.values:
        raise InvalidInput(
            "breakdown",
            "Use specialty, month or region, or two of them joined by a comma "
            "(specialty,month; region,specialty; region,month), or leave it out.",
        )
    return value


def _breakdown_grid(breakdown: str, found: set[str], release: Release) -> list[str]:
    """All values a breakdown shows, published or not, so absence reveals nothing."""
    if breakdown == Breakdown.SPECIALTY:
        return [str(pk) for pk in Specialty.objects.order_by("name").values_list("pk", flat=True)]
    if breakdown == Breakdown.MONTH:
        months = sorted(found)
        if not months:
            return []
        year, month = map(int, months[0].split("-"))
        end = release.published_at.strftime("%Y-%m")
        grid = []
        while f"{year:04d}-{month:02d}" <= end:
            grid.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return grid
    if breakdown == Breakdown.REGION:
        return sorted(found)
    return [""]


def _cells(
    release: Release, level: int, drugs: list[Drug], indication_id: int | None, breakdown: str
) -> list[Cell]:
    versions = versions_at(release).filter(
        level=level, breakdown=breakdown, drug_id__in=[d.pk for d in drugs]
    )
    if level == Level.DRUG_INDICATION:
        versions = versions.filter(indication_id=indication_id)
    k = release.privacy.get("min_raters", 11)
    published = {(v.drug_id, v.breakdown_value): shown_values(v.values, k) for v in versions}
    found = {value for _, value in published}
    if is_combined(breakdown):
        layout = combined_layout(breakdown, found, release.published_at.strftime("%Y-%m"))
    else:
        grid = _breakdown_grid(breakdown, found, release)
        names = (
            {s.pk: s.name for s in Specialty.objects.all()}
            if breakdown == Breakdown.SPECIALTY
            else {}
        )
        layout = [
            (value, names.get(int(value), value) if names else (value or None)) for value in grid
        ]
    indication_name = (
        Indication.objects.filter(pk=indication_id).values_list("name", flat=True).first()
        if indication_id
        else None
    )
    cells = []
    for drug in drugs:
        for value, label in layout:
            values = published.get((drug.pk, value))
            for dim in DIMENSION_NAMES:
                v = values.get(dim) if values else None
                cells.append(
                    Cell(
                        drug_id=drug.pk,
                        drug_name=drug.generic_name,
                        indication_id=indication_id,
                        dimension=dim,
                        breakdown_value=label,
                        score=v["score"] if v else None,
                        ci_low=v["ci_low"] if v else None,
                        ci_high=v["ci_high"] if v else None,
                        n_raters=v["n_raters"] if v else None,
                        suppressed=v is None,
                        brand_names=tuple(drug.brand_names or ()),
                        manufacturer=drug.manufacturer or "",
                        indication_name=indication_name,
                        breakdown_key=value or None,
                    )
                )
    return cells


def shown_values(values: dict, k: int) -> dict:
    """The dimensions of a published cell that may show: never a count under k (releases built
    before the count floor may hold such values; they read as suppressed)."""
    return {dim: v for dim, v in values.items() if v and (v.get("n_raters") or 0) >= k}


def with_rank_intervals(cells: list[Cell], seed: int) -> list[Cell]:
    """Rank drugs per dimension (breakdown none) by simulation from the published estimates and
    intervals: post-processing of released values, so it costs no privacy."""
    rng = np.random.default_rng(seed)
    out = list(cells)
    for dim in DIMENSION_NAMES:
        idx = [n for n, c in enumerate(cells) if c.dimension == dim and not c.suppressed]
        if len(idx) < 2:
            continue
        mean = np.array([cells[n].score for n in idx])
        se = np.array([(cells[n].ci_high - cells[n].ci_low) / (2 * 1.96) for n in idx])
        draws = mean + rng.standard_normal((RANK_DRAWS, len(idx))) * np.maximum(se, 1e-6)
        ranks = (-draws).argsort(axis=1).argsort(axis=1) + 1
        point = (-mean).argsort().argsort() + 1
        low, high = np.percentile(ranks, [2.5, 97.5], axis=0)
        for j, n in enumerate(idx):
            c = cells[n]
            out[n] = Cell(
                **{
                    **c.__dict__,
                    "rank": int(point[j]),
                    "rank_low": int(np.floor(low[j])),
                    "rank_high": int(np.ceil(high[j])),
                }
            )
    return out


def indication_report(
    user: User, indication_id: int, breakdown: str | None = None, release_id: int | None = None
) -> Report:
    org = organization_of(user)
    indication = check_indication(org, indication_id)
    release = get_release(release_id)
    breakdown = _breakdown(breakdown)
    with_cells = set(
        versions_at(release)
        .filter(level=Level.DRUG_INDICATION, indication_id=indication_id)
        .values_list("drug_id", flat=True)
    )
    listed = set(
        DrugIndication.objects.filter(indication=indication).values_list("drug_id", flat=True)
    )
    drugs = list(Drug.objects.filter(pk__in=with_cells | listed).order_by("generic_name"))
    cells = _cells(release, Level.DRUG_INDICATION, drugs, indication.pk, breakdown)
    if breakdown == Breakdown.NONE:
        cells = with_rank_intervals(cells, seed=release.pk * 7919 + indication.pk)
    return Report(
        "indication",
        {"id": indication.pk, "name": indication.name, "icd10": indication.icd10_codes},
        release,
        breakdown,
        release.privacy.get("min_raters", 11),
        cells,
    )


def drug_class_report(
    user: User, class_id: int, breakdown: str | None = None, release_id: int | None = None
) -> Report:
    org = organization_of(user)
    drug_class = check_drug_class(org, class_id)
    release = get_release(release_id)
    breakdown = _breakdown(breakdown)
    drugs = list(Drug.objects.filter(drug_class=drug_class).order_by("generic_name"))
    cells = _cells(release, Level.DRUG, drugs, None, breakdown)
    if breakdown == Breakdown.NONE:
        cells = with_rank_intervals(cells, seed=release.pk * 7919 + drug_class.pk)
    return Report(
        "drug_class",
        {"id": drug_class.pk, "name": drug_class.name},
        release,
        breakdown,
        release.privacy.get("min_raters", 11),
        cells,
    )


def drug_report(
    user: User, drug_id: int, breakdown: str | None = None, release_id: int | None = None
) -> Report:
    """A scorecard: the drug and its class competitors across indications, then the drug for
    each of its indications."""
    org = organization_of(user)
    drug = check_drug(org, drug_id)
    release = get_release(release_id)
    breakdown = _breakdown(breakdown)
    competitors = (
        list(Drug.objects.filter(drug_class_id=drug.drug_class_id).order_by("generic_name"))
        if drug.drug_class_id
        else [drug]
    )
    cells = _cells(release, Level.DRUG, competitors, None, breakdown)
    if breakdown == Breakdown.NONE:
        cells = with_rank_intervals(cells, seed=release.pk * 7919 + drug.pk)
    for indication_id in (
        versions_at(release)
        .filter(level=Level.DRUG_INDICATION, drug_id=drug.pk, breakdown=Breakdown.NONE)
        .values_list("indication_id", flat=True)
        .distinct()
    ):
        cells += _cells(release, Level.DRUG_INDICATION, [drug], indication_id, breakdown)
    return Report(
        "drug",
        {
            "id": drug.pk,
            "name": drug.generic_name,
            "drug_class": drug.drug_class.name if drug.drug_class else None,
        },
        release,
        breakdown,
        release.privacy.get("min_raters", 11),
        cells,
        engagement=drug_engagement(release, drug.pk),
    )


def drug_engagement(release: Release, drug_id: int) -> list[dict]:
    """Per month: physicians who rated (noisy, from the month cells), comments and page views."""
    months = {row["month"]: {**row, "ratings": None} for row in engagement_at(release, drug_id)}
    for version in versions_at(release).filter(
        level=Level.DRUG, drug_id=drug_id, breakdown=Breakdown.MONTH
    ):
        entry = months.setdefault(
            version.breakdown_value,
            {"month": version.breakdown_value, "comments": None, "page_views": None},
        )
        shown = shown_values(version.values, release.privacy.get("min_raters", 11))
        entry["ratings"] = max((v["n_raters"] for v in shown.values()), default=None)
    return completed_months(months, release, release.privacy.get("min_raters", 11))


def completed_months(months: dict[str, dict], release: Release, k: int) -> list[dict]:
    """The engagement table as its note promises: completed months only (not the release's
    own month), every month from the first to the last (none skipped), newest first, and
    counts below k shown as "-" (None) like any suppressed figure."""
    current = release.published_at.strftime("%Y-%m")
    done = sorted(m for m in months if m < current)
    if not done:
        return []
    year, month = map(int, done[0].split("-"))
    out = []
    while f"{year:04d}-{month:02d}" < current:
        key = f"{year:04d}-{month:02d}"
        row = dict(months.get(key) or {"month": key})
        for name in ("ratings", "comments", "page_views"):
            value = row.get(name)
            row[name] = value if value is not None and value >= k else None
        out.append(row)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out[::-1]


def _score_cells(versions, k: int) -> dict[tuple[int, int | None], list]:
    """Published release values as the ScoreCell shape the catalogue pages and API use."""
    out: dict[tuple[int, int | None], list] = {}
    for version in versions:
        cells = []
        values = shown_values(version.values, k)
        for dim in DIMENSION_NAMES:
            v = values.get(dim)
            if v is None:
                continue
            cells.append(
                ScoreCell(
                    indication_id=version.indication_id,
                    dimension=dim,
                    score=v["score"],
                    ci_low=v["ci_low"],
                    ci_high=v["ci_high"],
                    n_ratings=v["n_raters"],
                    n_raters=v["n_raters"],
                    shown=True,
                    distribution=(),
                    method="release",
                )
            )
        out[(version.drug_id, version.indication_id)] = cells
    return out


def release_drug_cells(drug_id: int) -> list:
    """What pharma sees on catalogue pages: the latest release's cells of a drug, never live
    counts or distributions (those would let consecutive page loads reveal single ratings)."""
    release = Release.objects.order_by("-pk").first()
    if release is None:
        return []
    versions = versions_at(release).filter(drug_id=drug_id, breakdown=Breakdown.NONE)
    by_key = _score_cells(versions, release.privacy.get("min_raters", 11))
    ordered = sorted(by_key.items(), key=lambda item: (item[0][1] is not None, item[0][1] or 0))
    return [cell for _, cells in ordered for cell in cells]


def release_indication_cells(indication_id: int) -> dict[int, list]:
    release = Release.objects.order_by("-pk").first()
    if release is None:
        return {}
    versions = versions_at(release).filter(
        level=Level.DRUG_INDICATION, breakdown=Breakdown.NONE, indication_id=indication_id
    )
    k = release.privacy.get("min_raters", 11)
    return {drug_id: cells for (drug_id, _), cells in _score_cells(versions, k).items()}


REPORTS_SCOPE = "reports:read"


def require_scope(token: ApiToken | None, scope: str) -> None:
    """API keys carry only the scopes they were issued with; sign-in tokens and browser
    sessions act as the analyst themself."""
    if token is not None and token.kind == TokenKind.API_KEY and scope not in token.scopes:
        raise AccessDenied(f"This API key lacks the {scope} scope.")


@dataclass(frozen=True)
class Subject:
    """What a figure-bearing read is about: exactly one of a drug, an indication or a class."""

    drug_id: int | None = None
    indication_id: int | None = None
    class_id: int | None = None


def figure_view_for(user: User, token: ApiToken | None, subject: Subject) -> FigureView:
    """The one check every endpoint that shows figures passes: the role decides live, release
    or none (`accounts.access.figure_view`); pharma then needs an API key with the reports
    scope (session tokens and browser sessions carry every scope) and a subscription that covers
    the subject, exactly as the portal's reports do. Raises AccessDenied (403) otherwise."""
    view = figure_view(user)
    if view != FigureView.RELEASE:
        return view
    require_scope(token, REPORTS_SCOPE)
    org = organization_of(user)
    if subject.drug_id is not None:
        check_drug(org, subject.drug_id)
    if subject.indication_id is not None:
        check_indication(org, subject.indication_id)
    if subject.class_id is not None:
        check_drug_class(org, subject.class_id)
    return view


def page_figure_view(user: User, subject: Subject) -> FigureView:
    """For web pages: a catalogue page stays readable without figures when pharma's
    subscription does not cover it (the API answers 403 instead)."""
    try:
        return figure_view_for(user, None, subject)
    except AccessDenied:
        return FigureView.NONE


def drug_cells_for_viewer(view: FigureView, drug_id: int, **filters) -> list:
    """Live cells for LIVE, the latest release's cells for RELEASE (the specialty and period
    filters do not apply to release values), nothing for NONE."""
    if view == FigureView.RELEASE:
        return release_drug_cells(drug_id)
    if view == FigureView.LIVE:
        return drug_score_cells(drug_id, **filters)
    return []


def figures_key(
    view: FigureView, user: User, drug_id: int, *, with_comments: bool = False
) -> list[object]:
    """What a drug's figures, as `drug_cells_for_viewer(view, ...)` gives them, depend on: a
    cache key part. Live viewers: the drug's ratings version and the current fit. Release
    viewers: only the latest release and their organisation, never the live version (an ETag
    that changed with each rating would tell pharma when a drug was rated). Viewers without
    figures: the drug alone (nothing that moves with a rating). `with_comments` adds, for live
    viewers (the only ones who read comments), the version of the drug's comment list."""
    if view == FigureView.LIVE:
        fit_id = current_fit_id()
        version, comments = versions_of(drug_id)
        return [drug_id, "live", version, fit_id, *([comments] if with_comments else [])]
    if view == FigureView.RELEASE:
        release_id = Release.objects.order_by("-pk").values_list("pk", flat=True).first()
        analyst = getattr(user, "pharma_analyst", None)
        return [drug_id, "release", release_id, analyst.organization_id if analyst else None]
    return [drug_id, "none"]


def drugs_shown_for_indication(
    view: FigureView, drugs: list[tuple[Drug, bool]], cells: dict[int, list]
) -> list[tuple[Drug, bool]]:
    """A drug appears on an indication only by being rated off-label for it: that moves with
    a rating, so only live viewers see such drugs (pharma: those its release publishes)."""
    if view == FigureView.LIVE:
        return drugs
    return [(drug, listed) for drug, listed in drugs if listed or drug.pk in cells]


def indication_cells_for_viewer(view: FigureView, indication_id: int, **filters) -> dict[int, list]:
    """As `drug_cells_for_viewer`: the specialty filter applies to live figures only."""
    if view == FigureView.RELEASE:
        return release_indication_cells(indication_id)
    if view == FigureView.LIVE:
        return indication_score_cells(indication_id, **filters)
    return {}


def organization_api_keys(user: User) -> list[ApiToken]:
    """The API keys of the caller's organisation (any analyst of it may see and revoke them)."""
    org = organization_of(user)
    return list(
        ApiToken.objects.filter(
            kind=TokenKind.API_KEY, user__pharma_analyst__organization=org
        ).order_by("-created_at")
    )


def recent_releases(user: User, limit: int = 5) -> list[Release]:
    require(user, Capability.USE_PORTAL)
    return list(Release.objects.order_by("-pk")[:limit])
