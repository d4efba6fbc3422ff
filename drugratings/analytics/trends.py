"""Monthly trends of a drug: rater-adjusted monthly means.

Each rating is adjusted by its rater's estimated leniency and specialty effect from the current
all-time fit (y - b_rater - g_specialty), and the adjusted values are averaged per calendar month
(METHODOLOGY.md section 7). Months with fewer than the display minimum of physicians are
reported with their count but no value.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from django.core.cache import cache

from drugratings.analytics.access import current_fit_id
from drugratings.analytics.display import is_shown
from drugratings.analytics.models import FitRun
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.queries import scored_ratings
from drugratings.ratings.versions import version_of

MONTHS_SHOWN = 24


@dataclass(frozen=True)
class TrendPoint:
    month: str
    dimension: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n_raters: int


@lru_cache(maxsize=4)
def _effects(fit_id: int) -> dict[str, dict]:
    blob = FitRun.objects.filter(pk=fit_id).values_list("effects", flat=True).first()
    if not blob:
        return {}
    arrays = np.load(io.BytesIO(bytes(blob)))
    out = {}
    for name in DIMENSION_NAMES:
        if f"{name}__physician" not in arrays:
            continue
        out[name] = {
            "rater": dict(
                zip(
                    arrays[f"{name}__physician"].tolist(),
                    arrays[f"{name}__rater_effect"].tolist(),
                    strict=True,
                )
            ),
            "group": dict(
                zip(
                    arrays[f"{name}__specialty"].tolist(),
                    arrays[f"{name}__group_effect"].tolist(),
                    strict=True,
                )
            ),
        }
    return out


def monthly_trend(drug_id: int) -> list[TrendPoint]:
    """Cached like the drug's scores: under its ratings version and the current fit."""
    fit_id = current_fit_id()
    key = f"trend:{drug_id}:{version_of(drug_id)}:{fit_id}"
    points = cache.get(key)
    if points is None:
        points = _monthly_trend(drug_id, fit_id)
        cache.set(key, points, 600)
    return points


def _monthly_trend(drug_id: int, fit_id: int | None) -> list[TrendPoint]:
    effects = _effects(fit_id) if fit_id else {}
    rows = (
        scored_ratings()
        .filter(drug_id=drug_id)
        .values_list("physician_id", "physician__specialty_id", "updated_at", *DIMENSION_NAMES)
    )
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for physician, specialty, updated, *scores in rows:
        month = updated.strftime("%Y-%m")
        for name, score in zip(DIMENSION_NAMES, scores, strict=True):
            if score is None:
                continue
            effect = effects.get(name, {})
            lenience = effect.get("rater", {}).get(physician, 0.0)
            group = effect.get("group", {}).get(specialty, 0.0)
            values[(month, name)].append(score - lenience - (0.0 if math.isnan(group) else group))
    months = sorted({m for m, _ in values})[-MONTHS_SHOWN:]
    points = []
    for month in months:
        for name in DIMENSION_NAMES:
            data = values.get((month, name), [])
            n = len(data)
            if not is_shown(n):
                points.append(TrendPoint(month, name, None, None, None, n))
                continue
            mean = float(np.mean(data))
            half = 1.96 * float(np.std(data, ddof=1)) / math.sqrt(n)
            points.append(
                TrendPoint(
                    month, name, round(mean, 3), round(mean - half, 3), round(mean + half, 3), n
                )
            )
    return points
