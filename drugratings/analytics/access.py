"""Score reads for pages and the API: live counts and distributions, fitted adjusted scores.

Counts and distributions come from the ratings themselves, so a new rating shows at once. The
adjusted score and its interval come from the current model fit (refit within a minute of new
ratings); until a fit covers a cell, the plain mean is shown and labelled as such.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Avg, Count, F, Sum

from drugratings.accounts.models import PhysicianProfile, VerificationStatus
from drugratings.analytics.display import is_shown
from drugratings.analytics.models import FitRun, Score, Window
from drugratings.analytics.windows import trailing_12m_start
from drugratings.catalog.models import Drug, DrugClass, Indication
from drugratings.core.rows import one_row
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.models import Comment, CommentStatus
from drugratings.ratings.queries import (
    conflicted_ratings,
    distinct_rater_aggregates,
    distribution_aggregates,
    scored_ratings,
)
from drugratings.ratings.versions import version_of


class Method:
    ADJUSTED = "adjusted"
    MEAN = "mean"


@dataclass(frozen=True)
class ScoreCell:
    indication_id: int | None
    dimension: str
    score: float | None
    ci_low: float | None
    ci_high: float | None
    n_ratings: int
    n_raters: int
    shown: bool
    distribution: tuple[int, ...]
    method: str
    # Conflict-of-interest sensitivity: ratings left out because their rater has a relationship
    # with the maker or a competitor, and roughly what the score would be with them.
    n_conflicted: int = 0
    score_with_conflicts: float | None = None
    # Rank among the shown drugs of the same indication (or class, across indications).
    rank: int | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    rank_of: int | None = None
    best: bool = False

    def as_api(self) -> dict[str, Any]:
        return {
            "indication_id": self.indication_id,
            "dimension": self.dimension,
            "score": self.score if self.shown else None,
            "ci_low": self.ci_low if self.shown else None,
            "ci_high": self.ci_high if self.shown else None,
            "n_ratings": self.n_ratings,
            "n_raters": self.n_raters,
            "shown": self.shown,
            "distribution": list(self.distribution),
            "method": self.method,
            "n_conflicted": self.n_conflicted,
            "score_with_conflicts": self.score_with_conflicts if self.shown else None,
            "rank": self.rank if self.shown else None,
            "rank_low": self.rank_low if self.shown else None,
            "rank_high": self.rank_high if self.shown else None,
            "rank_of": self.rank_of if self.shown else None,
            "best_in_class": self.best and self.shown,
        }


def _mean_interval(values: dict[str, Any], name: str, n: int) -> tuple[float | None, ...]:
    mean = values.get(f"{name}__mean")
    if mean is None or n == 0:
        return None, None, None
    mean_square = float(values.get(f"{name}__sq") or 0.0) / n
    variance = max(0.0, mean_square - mean * mean) * n / (n - 1) if n > 1 else 0.0
    half = 1.96 * math.sqrt(variance / n) if n > 1 else 2.0
    return mean, max(1.0, mean - half), min(5.0, mean + half)


def _mean_aggregates() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in DIMENSION_NAMES:
        out[f"{name}__mean"] = Avg(name)
        # Sum of squares, not StdDev: SQLite's StdDev fails on groups of one.
        out[f"{name}__sq"] = Sum(F(name) * F(name))
    return out


def _cells_from_row(
    indication_id: int | None,
    row: dict[str, Any],
    fitted: dict[tuple[int | None, str], Score],
    rater_counts: dict[str, int] | None = None,
) -> list[ScoreCell]:
    cells = []
    for name in DIMENSION_NAMES:
        n = row[f"{name}__n"]
        raters = rater_counts[name] if rater_counts is not None else n
        fit = fitted.get((indication_id, name))
        ranks = {}
        if fit is not None and fit.estimate is not None:
            score, low, high, method = fit.estimate, fit.ci_low, fit.ci_high, Method.ADJUSTED
            ranks = {
                "rank": fit.rank,
                "rank_low": fit.rank_low,
                "rank_high": fit.rank_high,
                "rank_of": fit.rank_of,
                "best": fit.best_in_group,
            }
        else:
            score, low, high = _mean_interval(row, name, n)
            method = Method.MEAN
        cells.append(
            ScoreCell(
                indication_id=indication_id,
                dimension=name,
                score=None if score is None else round(score, 3),
                ci_low=None if low is None else round(low, 3),
                ci_high=None if high is None else round(high, 3),
                n_ratings=n,
                n_raters=raters,
                shown=is_shown(raters) and score is not None,
                distribution=tuple(row[f"{name}__{v}"] for v in range(1, 6)),
                method=method,
                **ranks,
            )
        )
    return cells


def _fitted(drug_ids: list[int], window: str) -> dict[int, dict[tuple[int | None, str], Score]]:
    by_drug: dict[int, dict[tuple[int | None, str], Score]] = defaultdict(dict)
    for score in Score.objects.filter(fit__is_current=True, drug_id__in=drug_ids, window=window):
        by_drug[score.drug_id][(score.indication_id, score.dimension)] = score
    return by_drug


CACHE_SECONDS = 600


def current_fit_id() -> int | None:
    """The fit whose scores are shown: part of every figure cache key (one compiled read)."""
    fit = one_row(FitRun, is_current=True, fields=("id",))
    return fit.pk if fit is not None else None


def drug_score_cells(
    drug_id: int, *, specialty_id: int | None = None, window: str = Window.ALL_TIME
) -> list[ScoreCell]:
    """All score cells of a drug: across indications (indication_id None) and per indication.

    With a specialty filter the cells are plain means of that specialty's ratings: the model's
    adjustment is for the whole rater population. Cached under the drug's ratings version and
    the current fit, so a new rating or a refit shows at once.
    """
    fit_id = current_fit_id()
    key = f"scores:{drug_id}:{version_of(drug_id)}:{fit_id}:{specialty_id}:{window}"
    cells = cache.get(key)
    if cells is None:
        cells = _drug_score_cells(drug_id, specialty_id=specialty_id, window=window)
        cache.set(key, cells, CACHE_SECONDS)
    return cells


def _drug_score_cells(drug_id: int, *, specialty_id: int | None, window: str) -> list[ScoreCell]:
    ratings = scored_ratings().filter(drug_id=drug_id)
    if specialty_id is not None:
        ratings = ratings.filter(physician__specialty_id=specialty_id)
    if window == Window.TRAILING_12M:
        ratings = ratings.filter(updated_at__gte=trailing_12m_start())
    fitted = {} if specialty_id is not None else _fitted([drug_id], window).get(drug_id, {})
    overall = ratings.aggregate(
        **distribution_aggregates(), **distinct_rater_aggregates(), **_mean_aggregates()
    )
    if not any(overall[f"{name}__n"] for name in DIMENSION_NAMES):
        return []
    raters = {name: overall[f"{name}__raters"] for name in DIMENSION_NAMES}
    cells = _cells_from_row(None, overall, fitted, raters)
    means = {(None, name): overall[f"{name}__mean"] for name in DIMENSION_NAMES}
    per_indication = (
        ratings.values("indication_id")
        .annotate(**distribution_aggregates(), **_mean_aggregates())
        .order_by("indication_id")
    )
    for row in per_indication:
        cells.extend(_cells_from_row(row["indication_id"], row, fitted))
        means.update({(row["indication_id"], n): row[f"{n}__mean"] for n in DIMENSION_NAMES})
    if specialty_id is None:
        cells = _with_conflicts(drug_id, cells, means)
    return cells


def _with_conflicts(
    drug_id: int, cells: list[ScoreCell], plain_means: dict[tuple[int | None, str], float | None]
) -> list[ScoreCell]:
    """Add the sensitivity figure: the score shifted by how much the conflicted ratings would
    move the plain mean (the model is not refitted for it, so it is labelled approximate)."""
    from dataclasses import replace

    conflicted = conflicted_ratings().filter(drug_id=drug_id)
    if not conflicted.exists():
        return cells
    totals = {None: conflicted.aggregate(**_count_sum())}
    for row in conflicted.values("indication_id").annotate(**_count_sum()):
        totals[row["indication_id"]] = row
    out = []
    for cell in cells:
        extra = totals.get(cell.indication_id)
        n_extra = extra[f"{cell.dimension}__n"] if extra else 0
        if not n_extra or cell.score is None:
            out.append(cell)
            continue
        n = cell.n_ratings
        base_mean = float(plain_means.get((cell.indication_id, cell.dimension)) or 0.0)
        combined = (base_mean * n + extra[f"{cell.dimension}__sum"]) / (n + n_extra)
        out.append(
            replace(
                cell,
                n_conflicted=n_extra,
                score_with_conflicts=round(cell.score + combined - base_mean, 3),
            )
        )
    return out


def _count_sum() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in DIMENSION_NAMES:
        out[f"{name}__n"] = Count(name)
        out[f"{name}__sum"] = Sum(name)
    return out


def indication_score_cells(
    indication_id: int, window: str = Window.ALL_TIME, *, specialty_id: int | None = None
) -> dict[int, list[ScoreCell]]:
    """Score cells of every rated drug for one indication, by drug id, for side-by-side views.
    With a specialty, plain means of that specialty's ratings (as `drug_score_cells`)."""
    ratings = scored_ratings().filter(indication_id=indication_id)
    if specialty_id is not None:
        ratings = ratings.filter(physician__specialty_id=specialty_id)
    rows = (
        ratings.values("drug_id")
        .annotate(**distribution_aggregates(), **_mean_aggregates())
        .order_by("drug_id")
    )
    rows = list(rows)
    fitted = {} if specialty_id is not None else _fitted([r["drug_id"] for r in rows], window)
    return {
        row["drug_id"]: _cells_from_row(indication_id, row, fitted.get(row["drug_id"], {}))
        for row in rows
    }


def public_figures() -> dict[str, int]:
    """The site's public counts (home page and /api/v1/stats), cached for a few seconds."""
    figures = cache.get("public:figures")
    if figures is None:
        figures = {
            "drugs": Drug.objects.count(),
            "indications": Indication.objects.count(),
            "drug_classes": DrugClass.objects.count(),
            "ratings": scored_ratings().count(),
            "comments": Comment.objects.filter(status=CommentStatus.PUBLISHED).count(),
            "verified_physicians": PhysicianProfile.objects.filter(
                verification_status=VerificationStatus.VERIFIED
            ).count(),
        }
        cache.set("public:figures", figures, 10)
    return figures


@dataclass(frozen=True)
class FitDiagnostics:
    """The current fit's public diagnostics (methodology page); empty before the first fit."""

    fit_id: int | None
    methodology_version: str
    finished_at: Any
    by_dimension: dict[str, dict]


def current_fit_diagnostics() -> FitDiagnostics:
    """Anyone may read these: they hold no per-rating data, and histogram cells and shrinkage
    points below the display rule were dropped when the fit stored them."""
    row = (
        FitRun.objects.filter(is_current=True)
        .values("pk", "methodology_version", "finished_at", "diagnostics")
        .first()
    )
    if row is None:
        return FitDiagnostics(None, "", None, {})
    return FitDiagnostics(
        row["pk"], row["methodology_version"], row["finished_at"], row["diagnostics"] or {}
    )
