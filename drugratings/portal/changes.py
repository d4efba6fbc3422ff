"""What changed: the list of releases, the cells that differ between two releases, and which of
those moves are significant (alerts). Reads only published cell versions, so everything here is
post-processing of released values and costs no privacy."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.http import Http404

from drugratings.core.dbrouter import retry_on_primary
from drugratings.errors import InvalidInput
from drugratings.portal.models import Breakdown, CellVersion, Release
from drugratings.portal.releases import versions_at
from drugratings.ratings.dimensions import DIMENSION_NAMES

Z95 = 1.959963984540054
MAX_PAGE = 200
CellIdentity = tuple[int, int, int | None, str, str]  # level, drug, indication, breakdown, value


@dataclass(frozen=True)
class Figures:
    score: float
    ci_low: float
    ci_high: float
    n_raters: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()

    @property
    def se(self) -> float:
        return max(self.ci_high - self.ci_low, 0.0) / (2 * Z95)


@dataclass(frozen=True)
class Change:
    level: int
    drug_id: int
    indication_id: int | None
    dimension: str
    breakdown: str | None
    breakdown_value: str | None
    before: Figures | None
    after: Figures | None

    @property
    def move(self) -> Move | None:
        return significant_move(self.before, self.after)

    def as_dict(self) -> dict:
        return {
            "drug_id": self.drug_id,
            "indication_id": self.indication_id,
            "dimension": self.dimension,
            "breakdown": self.breakdown,
            "breakdown_value": self.breakdown_value,
            "before": self.before.as_dict() if self.before else None,
            "after": self.after.as_dict() if self.after else None,
        }


@dataclass(frozen=True)
class Move:
    delta: float
    ci_low: float
    ci_high: float

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def significant_move(before: Figures | None, after: Figures | None) -> Move | None:
    """The change between two published figures with its 95% interval.

    The two releases' estimates share most of their physicians, so they are positively
    correlated and the variance of their difference is below the sum of their variances. Using
    the sum (as if independent) widens the interval: fewer false alerts from noise, at the cost
    of missing the smallest real moves."""
    if before is None or after is None:
        return None
    delta = after.score - before.score
    half = Z95 * math.sqrt(before.se**2 + after.se**2)
    return Move(round(delta, 3), round(delta - half, 3), round(delta + half, 3))


def _figures(values: dict, dim: str) -> Figures | None:
    v = values.get(dim)
    if not v or v.get("score") is None:
        return None
    return Figures(float(v["score"]), float(v["ci_low"]), float(v["ci_high"]), int(v["n_raters"]))


def _identity(version: CellVersion) -> CellIdentity:
    return (
        version.level,
        version.drug_id,
        version.indication_id,
        version.breakdown,
        version.breakdown_value,
    )


def get_release(release_id: int, field: str) -> Release:
    """A release named by a query parameter; the 404 names the parameter."""
    release = retry_on_primary(Release.objects.filter(pk=release_id).first)
    if release is None:
        raise Http404(f"Release {release_id} ({field}) does not exist.")
    return release


def releases_page(after: int | None, limit: int) -> tuple[list[Release], int | None]:
    """Releases oldest first after the given id; `next` is the cursor of the following page."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"Give a limit between 1 and {MAX_PAGE}.")
    rows = Release.objects.order_by("pk")
    if after is not None:
        rows = rows.filter(pk__gt=after)
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (page[-1].pk if more and page else None)


def changed_versions(
    since: Release | None, until: Release, drug_ids: set[int] | None = None
) -> tuple[dict[CellIdentity, CellVersion], dict[CellIdentity, CellVersion]]:
    """The versions in `since` that `until` no longer has, and those `until` has anew
    (`since` None: before the first release, when nothing was published)."""
    if since is None:
        gone, new = CellVersion.objects.none(), versions_at(until)
    else:
        gone = versions_at(since).filter(last_release__lt=until.pk)
        new = versions_at(until).filter(first_release__gt=since.pk)
    if drug_ids is not None:
        gone, new = gone.filter(drug_id__in=drug_ids), new.filter(drug_id__in=drug_ids)
    return (
        {_identity(v): v for v in gone.iterator(chunk_size=2000)},
        {_identity(v): v for v in new.iterator(chunk_size=2000)},
    )


def changes_between(
    since: Release | None, until: Release, drug_ids: set[int] | None = None
) -> list[Change]:
    """Every published cell (per dimension) whose figures differ between the two releases."""
    if since is not None and since.pk > until.pk:
        raise InvalidInput("until", "`until` must not be older than `since`.")
    gone, new = changed_versions(since, until, drug_ids)
    out = []
    for key in sorted(gone.keys() | new.keys(), key=lambda k: (k[1], k[0], k[2] or 0, k[3], k[4])):
        level, drug_id, indication_id, breakdown, value = key
        old = gone[key].values if key in gone else {}
        now = new[key].values if key in new else {}
        for dim in DIMENSION_NAMES:
            before, after = _figures(old, dim), _figures(now, dim)
            if before == after:
                continue
            out.append(
                Change(
                    level,
                    drug_id,
                    indication_id,
                    dim,
                    None if breakdown == Breakdown.NONE else breakdown,
                    value or None,
                    before,
                    after,
                )
            )
    return out


def n_cells_changed(release: Release) -> int:
    """Cells (not dimensions) published differently from the release before: computed from the
    versions, so it always agrees with the change feed."""
    previous = Release.objects.filter(pk__lt=release.pk).order_by("-pk").first()
    if previous is None:
        return versions_at(release).count()
    gone, new = changed_versions(previous, release)
    return len(gone.keys() | new.keys())
