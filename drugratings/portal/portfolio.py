"""The organisation's portfolio: its manufacturers' drugs, per indication and dimension, against
the other drugs rated for that indication, from the latest release. Everything is computed from
published cells (post-processing), so it costs no privacy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q

from drugratings.catalog.models import BrandProduct, Drug
from drugratings.portal.access import Cell, with_rank_intervals
from drugratings.portal.areas import drug_labels, indication_names, visible_drug_ids
from drugratings.portal.changes import Figures, significant_move
from drugratings.portal.models import Breakdown, Level, PharmaOrganization, Release
from drugratings.portal.releases import versions_at
from drugratings.ratings.dimensions import DIMENSION_NAMES

CHANGE_DAYS = 90
MAX_COMPETITORS = 12


def portfolio_drug_ids(org: PharmaOrganization) -> set[int]:
    """Drugs whose application holder or labeller is one of the organisation's manufacturers."""
    names = [n.strip() for n in org.manufacturers or [] if n.strip()]
    if not names:
        return set()
    by_drug = Q()
    by_holder = Q()
    for name in names:
        by_drug |= Q(manufacturer__icontains=name)
        by_holder |= Q(application_holder__icontains=name)
    ids = set(Drug.objects.filter(by_drug).values_list("pk", flat=True))
    ids |= set(BrandProduct.objects.filter(by_holder).values_list("drug_id", flat=True))
    return ids


def watched_drug_ids(org: PharmaOrganization) -> set[int]:
    """The portfolio plus the competitors the organisation picked."""
    return portfolio_drug_ids(org) | set(org.watched_drugs.values_list("pk", flat=True))


def baseline_release(latest: Release, days: int = CHANGE_DAYS) -> Release | None:
    """The newest release at least `days` older than `latest`."""
    cutoff = latest.published_at - timedelta(days=days)
    return Release.objects.filter(published_at__lte=cutoff).order_by("-published_at", "-pk").first()


@dataclass(frozen=True)
class PortfolioItem:
    drug_id: int
    drug_name: str
    brand_names: list[str]
    manufacturer: str
    indication_id: int
    indication_name: str
    dimension: str
    score: float
    ci_low: float
    ci_high: float
    n_raters: int
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    rank_of: int
    change_90d: dict | None
    competitors: list[dict]
    trend: list[dict]

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _figures(values: dict, dim: str) -> Figures | None:
    v = values.get(dim) if values else None
    if not v or v.get("score") is None:
        return None
    return Figures(float(v["score"]), float(v["ci_low"]), float(v["ci_high"]), int(v["n_raters"]))


def _ranked(cells: dict[int, dict], indication_id: int, seed: int) -> dict[tuple[int, str], Cell]:
    """Rank intervals among the drugs published for one indication, per dimension."""
    flat = [
        Cell(
            drug_id=drug_id,
            drug_name="",
            indication_id=indication_id,
            dimension=dim,
            breakdown_value=None,
            score=values[dim]["score"],
            ci_low=values[dim]["ci_low"],
            ci_high=values[dim]["ci_high"],
            n_raters=values[dim]["n_raters"],
            suppressed=False,
        )
        for drug_id, values in cells.items()
        for dim in DIMENSION_NAMES
        if dim in values
    ]
    return {(c.drug_id, c.dimension): c for c in with_rank_intervals(flat, seed)}


def portfolio(
    org: PharmaOrganization, release: Release, dimension: str | None = None
) -> list[PortfolioItem]:
    """Each portfolio drug, per published indication and dimension, with its competitors."""
    mine = portfolio_drug_ids(org)
    visible = visible_drug_ids(org)
    if visible is not None:
        mine &= visible
    if not mine:
        return []
    dims = [dimension] if dimension else list(DIMENSION_NAMES)
    none_cells = versions_at(release).filter(level=Level.DRUG_INDICATION, breakdown=Breakdown.NONE)
    indications = set(
        none_cells.filter(drug_id__in=mine).values_list("indication_id", flat=True).distinct()
    )
    by_indication: dict[int, dict[int, dict]] = defaultdict(dict)
    for drug_id, indication_id, values in none_cells.filter(
        indication_id__in=indications
    ).values_list("drug_id", "indication_id", "values"):
        by_indication[indication_id][drug_id] = values
    baseline = baseline_release(release)
    before: dict[tuple[int, int], dict] = {}
    if baseline is not None:
        for drug_id, indication_id, values in (
            versions_at(baseline)
            .filter(
                level=Level.DRUG_INDICATION,
                breakdown=Breakdown.NONE,
                drug_id__in=mine,
                indication_id__in=indications,
            )
            .values_list("drug_id", "indication_id", "values")
        ):
            before[(drug_id, indication_id)] = values
    trends: dict[tuple[int, int], list[tuple[str, dict]]] = defaultdict(list)
    for drug_id, indication_id, month, values in (
        versions_at(release)
        .filter(
            level=Level.DRUG_INDICATION,
            breakdown=Breakdown.MONTH,
            drug_id__in=mine,
            indication_id__in=indications,
        )
        .values_list("drug_id", "indication_id", "breakdown_value", "values")
    ):
        trends[(drug_id, indication_id)].append((month, values))
    all_drugs = {d for cells in by_indication.values() for d in cells}
    labels = drug_labels(all_drugs)
    names = indication_names(indications)
    items = []
    for indication_id in sorted(indications, key=lambda i: names.get(i, "")):
        cells = by_indication[indication_id]
        ranked = _ranked(cells, indication_id, seed=release.pk * 7919 + indication_id)
        for drug_id in sorted(mine & set(cells), key=lambda d: labels[d].drug_name):
            label = labels[drug_id]
            for dim in dims:
                now = _figures(cells[drug_id], dim)
                if now is None:
                    continue
                then = _figures(before.get((drug_id, indication_id), {}), dim)
                move = significant_move(then, now)
                rank = ranked.get((drug_id, dim))
                rivals = [
                    (other, _figures(values, dim))
                    for other, values in cells.items()
                    if other != drug_id and _figures(values, dim)
                ]
                rivals.sort(key=lambda pair: -pair[1].score)
                items.append(
                    PortfolioItem(
                        drug_id=drug_id,
                        drug_name=label.drug_name,
                        brand_names=list(label.brand_names),
                        manufacturer=label.manufacturer,
                        indication_id=indication_id,
                        indication_name=names.get(indication_id, ""),
                        dimension=dim,
                        score=now.score,
                        ci_low=now.ci_low,
                        ci_high=now.ci_high,
                        n_raters=now.n_raters,
                        rank=rank.rank if rank else None,
                        rank_low=rank.rank_low if rank else None,
                        rank_high=rank.rank_high if rank else None,
                        rank_of=1 + len(rivals),
                        change_90d=None
                        if move is None
                        else {
                            "delta": move.delta,
                            "ci_low": move.ci_low,
                            "ci_high": move.ci_high,
                            "significant": move.significant,
                        },
                        competitors=[
                            {
                                "drug_id": other,
                                "drug_name": labels[other].drug_name,
                                "brand_names": list(labels[other].brand_names),
                                "manufacturer": labels[other].manufacturer,
                                **figures.as_dict(),
                            }
                            for other, figures in rivals[:MAX_COMPETITORS]
                        ],
                        trend=[
                            {"month": month, **f.as_dict()}
                            for month, values in sorted(trends[(drug_id, indication_id)])
                            if (f := _figures(values, dim)) is not None
                        ],
                    )
                )
    # The drugs and indications most physicians rated first: a brand team's main products lead.
    items.sort(key=lambda i: (-i.n_raters, i.drug_name, i.indication_name, i.dimension))
    return items
